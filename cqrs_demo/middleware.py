"""Request-level middleware: one structured log line per request, a body size limit, messages made on first use."""

import logging
import time

from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import JsonResponse
from django.urls import is_valid_path
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger("cqrs_demo.request")


class RequestLogMiddleware:
    """Log one JSON line per request: method, path, status, duration and user (never secrets)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not logger.isEnabledFor(logging.INFO):
            # LOG_LEVEL above INFO: no line to write, so no timing or fields to gather.
            return self.get_response(request)
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
    """Refuse bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413) or without a length (411) before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Django reads a body by its Content-Length: a chunked one would silently be empty.
            return JsonResponse({"detail": "Send the body with a Content-Length header."}, status=411)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if self.limit is not None and length > self.limit:
            return JsonResponse({"detail": f"Request body too large; the limit is {self.limit} bytes."}, status=413)
        return self.get_response(request)


class ApiTrailingSlashMiddleware:
    """Serve ``/api/products`` as ``/api/products/`` instead of redirecting.

    Django's APPEND_SLASH answers with a 301, and clients follow it with a GET: a POST's
    body would be lost.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(f"{path}/", urlconf):
                request.path_info = f"{path}/"
                request.path = f"{request.path}/"
        return self.get_response(request)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's), with the storage made on a request's first use of it.

    Django's middleware builds the storage for every request (its class found by name, a cookie
    signer, a session store): work the API's requests never use. A storage nothing touched has
    nothing to save, so the response goes out as Django's middleware would send it.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
