"""Request-level middleware: one structured log line per request, and a body size limit."""

import logging
import time

from django.conf import settings
from django.http import JsonResponse

logger = logging.getLogger("cqrs_demo.request")


class RequestLogMiddleware:
    """Log one JSON line per request: method, path, status, duration and user (never secrets)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # DRF copies the user it authenticated (token or session) onto the Django request.
        user = getattr(request, "user", None)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user": getattr(user, "username", None) or None,
            },
        )
        return response


class BodySizeLimitMiddleware:
    """Refuse bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if self.limit is not None and length > self.limit:
            return JsonResponse({"detail": f"Request body too large; the limit is {self.limit} bytes."}, status=413)
        return self.get_response(request)
