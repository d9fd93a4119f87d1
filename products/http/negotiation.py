"""Content negotiation decided once per distinct request shape, not parsed again for every request."""

from rest_framework.negotiation import DefaultContentNegotiation

_MAX_REMEMBERED = 1000  # Accept headers are client-chosen: bound what is kept


class RememberingContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, remembering its choice for each (Accept header, ?format=, format suffix, renderers)."""

    _choices = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        key = (
            request.META.get("HTTP_ACCEPT"),
            request.query_params.get(self.settings.URL_FORMAT_OVERRIDE),
            format_suffix,
            tuple(type(renderer) for renderer in renderers),
        )
        choice = self._choices.get(key)
        if choice is None:
            # Refusals (406, 404 for an unknown format) raise and are not remembered.
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            choice = (renderers.index(renderer), media_type)
            if len(self._choices) < _MAX_REMEMBERED:
                self._choices[key] = choice
        index, media_type = choice
        return renderers[index], media_type
