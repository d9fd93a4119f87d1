"""What the viewsets share: ETags and If-Match, input validation, page links, documented errors."""

import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from products.http import serializers
from products.patterns import ETAG_DESCRIPTION, ETAG_PATTERN
from products.read.pagination import page_links
from products.read.params import InvalidParams

_ETAG = re.compile(r'^\s*(W/)?"(\d+)"\s*$')

# What If-Match expects of a weak tag: a version no product has (versions start at 1). Under
# RFC 9110 (13.1.1) If-Match compares strongly, and a weak tag never matches: the write is
# refused as a stale one is (412, or 404 when there is no product).
NO_VERSION = 0

# The path segment of an id (a UUID, hyphenated): anything else is a 404 before the view runs.
UUID_PATH = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^(\*|(W/)?"[0-9]+")$'},
    OpenApiParameter.HEADER,
    description=(
        'The product\'s ETag ("<version>"); the write is refused with 412 when it is stale. A weak '
        'tag (W/"3") never matches (RFC 9110 compares If-Match strongly): 412.'
    ),
)

ETAG = OpenApiParameter(
    "ETag",
    {"type": "string", "pattern": ETAG_PATTERN},
    OpenApiParameter.HEADER,
    description=ETAG_DESCRIPTION,
    required=True,
    response=[200, 201],
)


def error(description):
    return OpenApiResponse(response=serializers.ErrorSerializer, description=description)


INVALID = OpenApiResponse(
    response=serializers.ValidationErrorSerializer, description="Refused input: the messages, by field."
)


def expected_version(request):
    """Return the version named by ``If-Match``, or None when any version will do."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        raise ValidationError({"If-Match": ['Must be "*" or one ETag such as "3".']})
    weak, version = match.groups()
    return NO_VERSION if weak else int(version)


def with_etag(response, version):
    response["ETag"] = f'"{version}"'
    return response


def validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def list_params(read, request):
    """Return a list's query parameters read by ``read`` (products.read.params); refused ones are a 400."""
    try:
        return read(request.query_params)
    except InvalidParams as error:
        raise ValidationError(error.errors) from None


def page_response(request, page):
    """Shape a keyset page with absolute ``next`` and ``previous`` links."""
    next_link, previous_link = page_links(request.build_absolute_uri(), page)
    return Response({"next": next_link, "previous": previous_link, "results": page.results})


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description=(
        "1-255 characters. Retrying with the same key and body replays the first response for at "
        "least 24 hours; another body gets 422, a retry while the first runs gets 409."
    ),
)


def created_location(path_template):
    """Document the ``Location`` header of a 201: the new resource's path (``path_template`` names its key)."""
    return OpenApiParameter(
        "Location",
        str,
        OpenApiParameter.HEADER,
        description=f"The created resource's path: `{path_template}`.",
        required=True,
        response=[201],
    )


def created(response, path):
    """Return a 201 ``response`` that names the created resource's ``path`` in its ``Location`` header."""
    response["Location"] = path
    return response


WRITE_ERRORS = {
    401: error("Not authenticated."),
    403: error("Authenticated without the model permission."),
    415: error("Unsupported media type."),
}
POST_ERRORS = {
    **WRITE_ERRORS,
    409: error('A request with this Idempotency-Key is still running ("idempotency_key_in_flight").'),
    422: error('The Idempotency-Key was used with another body ("idempotency_key_reused").'),
}
PRODUCT_WRITE_ERRORS = {
    **WRITE_ERRORS,
    404: error("No active product has this id."),
    412: error('If-Match does not match the current version ("code": "version_mismatch").'),
}
