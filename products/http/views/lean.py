"""Plain JSON reads answered without DRF's request cycle, with the same answer DRF would give.

For most reads DRF's cycle decides nothing: no credentials to check (no ``Authorization``
header, no session cookie, reads open), JSON to render (no ``Accept`` but JSON or anything, no
``?format=``, no format suffix), and a handler that runs one statement. Wrapping the request,
negotiating, authenticating, checking permissions and finalizing the response cost about as
much Python as the rest of Django does around that statement. Such a request is answered
here: the same throttles (DRF's, given the Django request: they read only ``META`` and the
user), the same handler, the same renderer, headers and error bodies (the project's exception
handler). Any other request (a token, a session, the browsable API, HEAD) takes DRF's full cycle.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.cache import patch_vary_headers
from drf_orjson_renderer.renderers import ORJSONRenderer
from rest_framework.settings import api_settings

from products.http.errors import exception_handler

# What an Accept header may say for DRF to pick the JSON renderer, as application/json, with no
# parameters (an absent header picks the first renderer: JSON).
_JSON_ACCEPTS = frozenset({None, "*/*", "application/json"})
_RENDERER = ORJSONRenderer()


# No docstring: drf-spectacular takes a view's description from the first docstring in its MRO.
class LeanReadsMixin:
    # A viewset whose ``lean_actions`` answer plain anonymous JSON GETs without DRF's request
    # cycle. Each must read nothing of the request but what Django's request has too
    # (``query_params`` is ``GET`` here) and return a DRF ``Response``.

    lean_actions = frozenset()

    def dispatch(self, request, *args, **kwargs):
        if not self._lean(request, kwargs):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        self.request = request
        self.format_kwarg = None
        # What DRF's authenticators would find: no credentials, so the anonymous user.
        request.user = AnonymousUser()
        request.query_params = request.GET
        try:
            self.check_throttles(request)
            response = getattr(self, self.action)(request, *args, **kwargs)
        except Exception as exc:
            response = exception_handler(exc, self.get_exception_handler_context())
            if response is None:
                raise
        # What DRF's finalize_response does with the renderer its negotiation picks for this request.
        response.accepted_renderer = _RENDERER
        response.accepted_media_type = _RENDERER.media_type
        response.renderer_context = {"view": self, "args": args, "kwargs": kwargs, "request": request}
        patch_vary_headers(response, ("Accept",))
        response["Allow"] = ", ".join(self.allowed_methods)
        return response

    def _lean(self, request, kwargs):
        if request.method != "GET":
            return False
        action = self.action_map.get("get")
        if action not in self.lean_actions or kwargs.get("format") is not None:
            return False
        meta = request.META
        if (
            meta.get("HTTP_ACCEPT") not in _JSON_ACCEPTS
            or "HTTP_AUTHORIZATION" in meta
            or settings.API_READS_REQUIRE_AUTH
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or (meta.get("QUERY_STRING") and api_settings.URL_FORMAT_OVERRIDE in request.GET)
        ):
            return False
        self.action = action
        return True
