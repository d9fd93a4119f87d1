"""The query parameters of the lists, read for both APIs: their rules and messages, defined once.

Both the Django API's list views and the ASGI read API read them here, free of any framework.
The rules and messages are DRF's (those of the fields the Django API's serializers declare,
which also document the parameters in its OpenAPI schema): each field's parsing, its validators
(all of them run and their messages are collected, as DRF does) and the check for blank values
that runs first. Reading them without a serializer saves each list request the serializer's
per-request set-up; products/tests/readapi compares both APIs' answers to the same bad input.
"""

import decimal
import re

from products.patterns import LOCATION_CODE_PATTERN, PRICE_PATTERN, SLUG_PATTERN
from products.read.pagination import DEFAULT_PAGE_SIZE
from products.read.queries.products import PRODUCT_ORDERINGS
from products.read.queries.reservations import STATUS_FILTERS

MAX_STRING_LENGTH = 1000  # DRF's guard on numbers sent as text
_INTEGER_DECIMALS = re.compile(r"\.0*\s*$")  # DRF reads "5.0" and "5.  " as 5
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_PLAIN_DECIMAL_MESSAGE = 'Send a plain decimal such as "12.50": digits 0-9, and a point before at most 2 of them.'
_TRUE = {"t", "y", "yes", "true", "on", "1"}
_FALSE = {"f", "n", "no", "false", "off", "0"}
_NULL = {"null", ""}
BLANK = "This field may not be blank."


class Invalid(Exception):
    """The messages of one parameter."""

    def __init__(self, *messages):
        super().__init__(messages)
        self.messages = list(messages)


class InvalidParams(Exception):
    """Refused parameters: their messages by name, the body of the 400."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def _text_validators(value, *, max_length=None, min_length=None, pattern=None, pattern_message=None):
    messages = []
    if max_length is not None and len(value) > max_length:
        messages.append(f"Ensure this field has no more than {max_length} characters.")
    if min_length is not None and len(value) < min_length:
        messages.append(f"Ensure this field has at least {min_length} characters.")
    if "\x00" in value:
        messages.append("Null characters are not allowed.")
    surrogate = next((char for char in value if 0xD800 <= ord(char) <= 0xDFFF), None)
    if surrogate is not None:
        messages.append(f"Surrogate characters are not allowed: U+{ord(surrogate):X}.")
    if pattern is not None and not pattern.search(value):
        messages.append(pattern_message or "This value does not match the required pattern.")
    if messages:
        raise Invalid(*messages)
    return value


def text(*, allow_blank=False, trim=True, **validators):
    """A CharField (or RegexField, with ``pattern``): trimmed unless ``trim`` is false."""
    if "pattern" in validators:
        validators["pattern"] = re.compile(validators["pattern"].removesuffix("$") + r"\Z")

    def read(value):
        if value == "" or (trim and value.strip() == ""):
            if not allow_blank:
                raise Invalid(BLANK)
            return ""
        return _text_validators(value.strip() if trim else value, **validators)

    read.allow_blank = allow_blank
    return read


def integer(*, min_value):
    def read(value):
        if len(value) > MAX_STRING_LENGTH:
            raise Invalid("String value too large.")
        try:
            number = int(_INTEGER_DECIMALS.sub("", value))
        except ValueError:
            raise Invalid("A valid integer is required.") from None
        if number < min_value:
            raise Invalid(f"Ensure this value is greater than or equal to {min_value}.")
        return number

    return read


def boolean(value):
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if lowered in _NULL:
        return None
    raise Invalid("Must be a valid boolean.")


def price(value):
    """A price bound: products.http.serializers.PriceField (DRF's DecimalField, 10 digits, 2 places)."""
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise Invalid(_PLAIN_DECIMAL_MESSAGE)
    number = decimal.Decimal(value.strip())
    _sign, digits, exponent = number.as_tuple()
    if exponent >= 0:
        total = whole = len(digits) + exponent
        places = 0
    elif len(digits) > abs(exponent):
        total, places = len(digits), abs(exponent)
        whole = total - places
    else:
        total = places = abs(exponent)
        whole = 0
    if total > 10:
        raise Invalid("Ensure that there are no more than 10 digits in total.")
    if places > 2:
        raise Invalid("Ensure that there are no more than 2 decimal places.")
    if whole > 8:
        raise Invalid("Ensure that there are no more than 8 digits before the decimal point.")
    number = number.quantize(decimal.Decimal(".01"), context=decimal.Context(prec=10))
    if not re.fullmatch(PRICE_PATTERN, value):
        raise Invalid(_PLAIN_DECIMAL_MESSAGE)
    return number


def choice(choices):
    def read(value):
        if value not in choices:
            raise Invalid(f'"{value}" is not a valid choice.')
        return value

    return read


# Each list's parameters, in the order the Django serializers declare them: (name, reader, default).
PAGE = (
    ("cursor", text(), None),
    ("page_size", integer(min_value=1), DEFAULT_PAGE_SIZE),
)
_ORDERINGS = [name for field in PRODUCT_ORDERINGS for name in (field, f"-{field}")]
PRODUCT_LIST = (
    *PAGE,
    ("search", text(allow_blank=True, max_length=200), ""),
    (
        "category",
        text(
            trim=False,
            max_length=100,
            pattern=SLUG_PATTERN,
            pattern_message='Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.',
        ),
        None,
    ),
    ("in_stock", boolean, None),
    ("location", text(trim=False, min_length=1, max_length=32, pattern=LOCATION_CODE_PATTERN), None),
    ("low_stock", boolean, None),
    ("min_price", price, None),
    ("max_price", price, None),
    ("ordering", choice(_ORDERINGS), "sku"),
)
RESERVATION_LIST = (
    *PAGE,
    ("status", choice(list(STATUS_FILTERS)), None),
    ("reference", text(max_length=200), None),
)


def read_params(fields, query_params):
    """Return ``{name: value}`` for ``fields`` from the query string, or raise ``InvalidParams``.

    Parameters left out take their default; unknown ones are ignored, as DRF does.
    """
    # The parameters sent, each by its last value (as both frameworks' ``get`` answers): a query
    # string names few of the fields, if any, and a plain dict answers the rest's absence fastest.
    sent = {name: query_params.get(name) for name in query_params}
    # A blank value is refused before anything else, for every field but those that allow one.
    blank = {
        name: [BLANK] for name, read, _ in fields if sent.get(name) == "" and not getattr(read, "allow_blank", False)
    }
    if blank:
        raise InvalidParams(blank)
    values, errors = {}, {}
    for name, read, default in fields:
        raw = sent.get(name)
        if raw is None:
            values[name] = default
            continue
        try:
            values[name] = read(raw)
        except Invalid as error:
            errors[name] = error.messages
    if errors:
        raise InvalidParams(errors)
    return values


def page_params(query_params):
    return read_params(PAGE, query_params)


def reservation_list_params(query_params):
    return read_params(RESERVATION_LIST, query_params)


def product_list_params(query_params):
    values = read_params(PRODUCT_LIST, query_params)
    low, high = values["min_price"], values["max_price"]
    if low is not None and high is not None and low > high:
        raise InvalidParams({"max_price": ["Must not be less than min_price."]})
    return values
