"""Map domain errors and failures to HTTP responses, in one place."""

import logging

from django.db import DatabaseError
from django.http import JsonResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from products import errors
from products.sql import connection_lost

logger = logging.getLogger("cqrs_demo.errors")

STATUS_BY_ERROR = {
    errors.ProductNotFoundError: status.HTTP_404_NOT_FOUND,
    errors.CategoryNotFoundError: status.HTTP_404_NOT_FOUND,
    errors.LocationNotFoundError: status.HTTP_404_NOT_FOUND,
    errors.ReservationNotFoundError: status.HTTP_404_NOT_FOUND,
    errors.UnknownProductError: status.HTTP_400_BAD_REQUEST,
    errors.DuplicateLineError: status.HTTP_400_BAD_REQUEST,
    errors.ReservationExpiredError: status.HTTP_409_CONFLICT,
    errors.ReservationCommittedError: status.HTTP_409_CONFLICT,
    errors.ReservationReleasedError: status.HTTP_409_CONFLICT,
    errors.UnknownCategoryError: status.HTTP_400_BAD_REQUEST,
    errors.UnknownLocationError: status.HTTP_400_BAD_REQUEST,
    errors.InactiveLocationError: status.HTTP_400_BAD_REQUEST,
    errors.DuplicateSkuError: status.HTTP_400_BAD_REQUEST,
    errors.DuplicateCategoryError: status.HTTP_400_BAD_REQUEST,
    errors.DuplicateLocationError: status.HTTP_400_BAD_REQUEST,
    errors.StockLimitError: status.HTTP_400_BAD_REQUEST,
    errors.InvalidCursorError: status.HTTP_400_BAD_REQUEST,
    errors.InsufficientStockError: status.HTTP_409_CONFLICT,
    errors.VersionMismatchError: status.HTTP_412_PRECONDITION_FAILED,
    errors.IdempotencyKeyInFlightError: status.HTTP_409_CONFLICT,
    errors.IdempotencyKeyReusedError: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def domain_error_response(error):
    """Return the response for a domain error: DRF's field shape for 400, else detail + code."""
    status_code = STATUS_BY_ERROR.get(type(error), status.HTTP_400_BAD_REQUEST)
    if status_code == status.HTTP_400_BAD_REQUEST:
        return Response({error.field or "non_field_errors": [error.message]}, status=status_code)
    body = {"detail": error.message}
    if status_code != status.HTTP_404_NOT_FOUND:
        body["code"] = error.code
        body.update(error.details)
    return Response(body, status=status_code)


def exception_handler(exc, context):
    """Extend DRF's handler with domain errors and an unreachable database or cache (503)."""
    if isinstance(exc, errors.DomainError):
        return domain_error_response(exc)
    if isinstance(exc, DatabaseError) and connection_lost(exc):
        logger.warning("database unavailable", extra={"error": type(exc).__name__})
        response = Response(
            {"detail": "The database is unavailable; try again shortly.", "code": "database_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        # REDIS_URL's cache (throttle counts) is unreachable.
        logger.warning("cache unavailable", extra={"error": type(exc).__name__})
        response = Response(
            {"detail": "The cache is unavailable; try again shortly.", "code": "cache_unavailable"},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """Answer unknown paths with a JSON 404."""
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    """Answer unhandled errors with a JSON 500."""
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(request, exception=None):
    """Answer requests Django refuses before any view (bad Host, oversized fields) with JSON."""
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception=None):
    """Answer CSRF and other Django-level refusals with JSON."""
    return JsonResponse({"detail": "Permission denied."}, status=403)
