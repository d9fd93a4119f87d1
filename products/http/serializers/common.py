"""What the serializers share: strict input, field types, page parameters and shapes, errors."""

import re

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from products.patterns import LOCATION_CODE_PATTERN, PRICE_PATTERN, SKU_PATTERN, SLUG_PATTERN  # noqa: F401 (re-exported)
from products.read.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from products.write.models import MAX_QUANTITY

# A decimal as the API reads one, before its bounds are checked: ASCII digits, an optional
# point. Decimal(), which DRF's DecimalField calls, also reads "1_000", any script's digits
# (Arabic-Indic, full-width), surrounding spaces and exponents; none of them is a price here.
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_PLAIN_DECIMAL_MESSAGE = 'Send a plain decimal such as "12.50": digits 0-9, and a point before at most 2 of them.'


@extend_schema_field({"type": "string", "pattern": PRICE_PATTERN, "example": "12.50"})
class PriceField(serializers.DecimalField):
    """A price: a string of 0 to 99,999,999.99 with at most 2 decimal places (PRICE_PATTERN)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _PLAIN_DECIMAL.fullmatch(data):
            raise serializers.ValidationError(_PLAIN_DECIMAL_MESSAGE)
        value = super().to_internal_value(data)  # DRF's messages for the sign, the places, the size
        if not re.fullmatch(PRICE_PATTERN, data):  # what is left: "-0", 9 digits or more with leading zeros
            raise serializers.ValidationError(_PLAIN_DECIMAL_MESSAGE)
        return value


# No example: Swagger UI fills a query parameter's example into "Try it out", filtering the list.
@extend_schema_field({"type": "string", "pattern": PRICE_PATTERN})
class PriceFilterField(PriceField):
    """A price bound of the product list."""


@extend_schema_field({"type": "integer", "minimum": -MAX_QUANTITY, "maximum": MAX_QUANTITY, "not": {"enum": [0]}})
class DeltaField(serializers.IntegerField):
    """A non-zero stock change of at most a billion units either way."""

    def __init__(self, **kwargs):
        super().__init__(min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value == 0:
            raise serializers.ValidationError("A delta of 0 changes nothing.")
        return value


# Fields a client may try to write where they are not accepted, with the reason shown.
_NOT_WRITABLE = {
    "sku": "The SKU cannot be changed.",
    "quantity": "Stock is changed with POST /api/products/{id}/stock/.",
    "initial_stock": "Stock is changed with POST /api/products/{id}/stock/.",
    "id": "This field is read-only.",
    "version": "This field is read-only; send it as If-Match.",
    "in_stock": "This field is read-only.",
    "reserved": "Stock is held with POST /api/reservations/.",
    "available": "This field is read-only.",
    "category_name": "This field is read-only.",
    "created_at": "This field is read-only.",
    "updated_at": "This field is read-only.",
}


def _type_error(field, value):
    """Return why ``value`` has the wrong JSON type for ``field``, or None.

    DRF would coerce 5 to "5", "5" to 5 or "true" to True; the schema promises strings,
    integers and booleans, so other JSON types are refused rather than guessed at.
    """
    if isinstance(field, serializers.DecimalField):
        return None if isinstance(value, str) else 'Send a decimal string such as "12.50".'
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be a boolean."
    if isinstance(field, serializers.IntegerField):
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return None if integral and not isinstance(value, bool) else "Must be an integer."
    return None


class StrictSerializer(serializers.Serializer):
    """Refuse undeclared fields and values of the wrong JSON type instead of ignoring or coercing them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {
                name: [_NOT_WRITABLE.get(name, "Unknown field.")] for name in sorted(set(data) - set(self.fields))
            }
            for name, field in self.fields.items():
                value = data.get(name)
                if value is not None and (message := _type_error(field, value)):
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def identifier_field(pattern, **kwargs):
    """Return a field for an identifier (a SKU, a slug, a location code), taken exactly as sent.

    DRF trims text; an identifier with a space or a newline around it is another one, so it
    is refused instead of being stored or looked up trimmed. ``$`` would also match before a
    final newline: the pattern ends in ``\\Z`` (the schema shows it as ``$``).
    """
    return serializers.RegexField(re.compile(pattern.removesuffix("$") + r"\Z"), trim_whitespace=False, **kwargs)


def slug_field(**kwargs):
    """Return a field for a category's slug."""
    message = 'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'
    return identifier_field(SLUG_PATTERN, max_length=100, error_messages={"invalid": message}, **kwargs)


def location_code_field(**kwargs):
    """Return a field for a location's code."""
    return identifier_field(LOCATION_CODE_PATTERN, min_length=1, max_length=32, **kwargs)


class PageParamsSerializer(serializers.Serializer):
    """Query parameters of a list; unknown ones are ignored, as DRF does (``format`` among them).

    The list serializers document the parameters in the schema; both APIs read them with
    products.read.params, which follows these fields' rules and messages
    (products/tests/http/test_list_params.py compares the two on good and bad input).
    """

    def to_internal_value(self, data):
        # DRF reads "?cursor=" as "no cursor"; the schema says a value is required, so say so.
        blank = [
            name
            for name, field in self.fields.items()
            if data.get(name) == "" and not getattr(field, "allow_blank", False)
        ]
        if blank:
            raise serializers.ValidationError({name: ["This field may not be blank."] for name in blank})
        return super().to_internal_value(data)

    cursor = serializers.CharField(required=False, help_text="Opaque; take it from next or previous.")
    page_size = serializers.IntegerField(
        required=False,
        default=DEFAULT_PAGE_SIZE,
        min_value=1,
        help_text=f"1 or more; values above {MAX_PAGE_SIZE} mean {MAX_PAGE_SIZE}.",
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="Machine-readable, on 409, 412 and 422.")


class ValidationErrorSerializer(serializers.Serializer):
    """A refused request (400): messages by field name, as DRF reports them.

    A list field's messages are by line index ({"lines": {"0": {"delta": [...]}}}); a body that
    is not JSON gets `detail` instead.
    """

    non_field_errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="About the request as a whole."
    )
    detail = serializers.CharField(required=False, help_text="When the body could not be read at all.")


def page_serializer(name, item):
    """Return the serializer documenting a cursor page of ``item``."""
    # many=False: the page is one object, though it answers a list action.
    return extend_schema_serializer(many=False)(
        type(
            name,
            (serializers.Serializer,),
            {
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": item(many=True),
            },
        )
    )
