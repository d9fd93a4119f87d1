"""Input serializers validate requests into commands and queries; output serializers
document the read rows, which the query handlers already return in API shape."""

import copy

from django.utils.text import slugify
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from products.read.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from products.read.queries.products import PRODUCT_ORDERINGS
from products.write.models import LOCATION_CODE_PATTERN, MAIN_LOCATION, MAX_QUANTITY

SKU_PATTERN = r"^[A-Za-z0-9._-]+$"
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "pattern": PRICE_PATTERN, "example": "12.50"})
class PriceField(serializers.DecimalField):
    """A price: 0 to 99,999,999.99 with at most 2 decimal places; a string or a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)


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


class CategoryCreateSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=100)
    slug = serializers.SlugField(max_length=100, required=False, help_text="Derived from the name when omitted.")

    def validate(self, attrs):
        if not attrs.get("slug"):
            attrs["slug"] = slugify(attrs["name"])[:100]
            if not attrs["slug"]:
                raise serializers.ValidationError({"slug": ["Cannot derive a slug from this name; send one."]})
        return attrs


class CategoryRenameSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=100)


class CategorySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LocationCreateSerializer(StrictSerializer):
    code = serializers.RegexField(
        LOCATION_CODE_PATTERN, min_length=1, max_length=32, help_text="a-z 0-9 _ -; cannot be changed later."
    )
    name = serializers.CharField(min_length=1, max_length=100)


class LocationChangeSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=100, required=False)
    is_active = serializers.BooleanField(required=False)


class LocationSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProductDetailsSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    category = serializers.SlugField(max_length=100, allow_null=True, required=False, default=None)
    price = PriceField()
    reorder_point = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        required=False,
        default=0,
        help_text="At or below it (the quantity over all locations), the product is low on stock.",
    )


class ProductReplaceSerializer(ProductDetailsSerializer):
    """PUT: every v1 detail field is required; reorder_point, newer, is kept when left out.

    So a client written before reorder_point existed replaces what it knows and nothing else.
    """

    description = serializers.CharField(max_length=5000, allow_blank=True)
    category = serializers.SlugField(max_length=100, allow_null=True)
    reorder_point = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        required=False,
        help_text="At or below it (the quantity over all locations), the product is low on stock. Left out: kept.",
    )


class ProductCreateSerializer(ProductDetailsSerializer):
    sku = serializers.RegexField(SKU_PATTERN, min_length=1, max_length=64, help_text="A-Z a-z 0-9 . _ -")
    initial_stock = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, default=0)


class ProductSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.SlugField(allow_null=True)
    category_name = serializers.CharField(allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)  # a string such as "12.50"
    quantity = serializers.IntegerField(help_text="On hand: the sum over the product's locations.")
    reserved = serializers.IntegerField(help_text="Held by active reservations (an expired one holds nothing).")
    available = serializers.IntegerField(help_text="quantity - reserved: what can still be sold or reserved.")
    in_stock = serializers.BooleanField(help_text="available > 0")
    reorder_point = serializers.IntegerField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def location_code_field(**kwargs):
    """Return a field for a location's code."""
    return serializers.RegexField(LOCATION_CODE_PATTERN, min_length=1, max_length=32, **kwargs)


class StockChangeSerializer(StrictSerializer):
    delta = DeltaField(required=False, help_text="Relative change; not 0.")
    quantity = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_QUANTITY, help_text="Absolute quantity after a recount."
    )
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    location = location_code_field(
        required=False,
        default=MAIN_LOCATION,
        help_text="The code of an active location; an inactive location takes no new stock. Default: main.",
    )

    def validate(self, attrs):
        if ("delta" in attrs) == ("quantity" in attrs):
            raise serializers.ValidationError("Send exactly one of delta and quantity.")
        return attrs


class StockLevelSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="A location's code.")
    quantity = serializers.IntegerField()
    reserved = serializers.IntegerField(help_text="Held there by active reservations.")
    available = serializers.IntegerField(help_text="quantity - reserved")


class StockSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="On hand: the sum over the locations.")
    reserved = serializers.IntegerField(help_text="Held by active reservations.")
    available = serializers.IntegerField(help_text="quantity - reserved")
    in_stock = serializers.BooleanField(help_text="available > 0")
    version = serializers.IntegerField()
    locations = StockLevelSerializer(many=True, help_text="Every location that ever held the product, by code.")


class StockMovementSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="The code of the location whose stock changed.")
    delta = serializers.IntegerField()
    quantity_after = serializers.IntegerField(help_text="The quantity at that location after the change.")
    reason = serializers.CharField()
    reference = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class PageParamsSerializer(serializers.Serializer):
    """Query parameters of a list; unknown ones are ignored, as DRF does (``format`` among them)."""

    _field_templates = {}  # serializer class -> its declared fields, deep-copied once

    def get_fields(self):
        # DRF deep-copies every declared field for each instance, which costs more than the
        # list query itself. These fields keep no state between requests, so shallow copies
        # of one deep copy per class serve as well.
        templates = self._field_templates.get(type(self))
        if templates is None:
            templates = self._field_templates[type(self)] = super().get_fields()
        return {name: copy.copy(field) for name, field in templates.items()}

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


_ORDERING_CHOICES = [name for field in PRODUCT_ORDERINGS for name in (field, f"-{field}")]


class ProductListParamsSerializer(PageParamsSerializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Every word must start a word of the SKU, name or description (case-insensitive).",
    )
    category = serializers.SlugField(required=False, help_text="Category slug.")
    in_stock = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: available > 0; false: the others."
    )
    location = location_code_field(
        required=False, help_text="Only products with stock available (> 0) at this location."
    )
    low_stock = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only products whose available is at or below their reorder_point; false: the others.",
    )
    min_price = PriceFilterField(required=False)
    max_price = PriceFilterField(required=False)
    ordering = serializers.ChoiceField(choices=_ORDERING_CHOICES, required=False, default="sku")

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_price": ["Must not be less than min_price."]})
        return attrs


class ProductEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The event's sequence number in the log.")
    type = serializers.CharField(
        help_text="ProductCreated, ProductDetailsUpdated, StockAdjusted, StockSet, ProductArchived"
    )
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(help_text="The event's payload, as published to RabbitMQ (see the README).")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="Machine-readable, on 409, 412 and 422.")


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


ProductPageSerializer = page_serializer("ProductPage", ProductSerializer)
CategoryPageSerializer = page_serializer("CategoryPage", CategorySerializer)
LocationPageSerializer = page_serializer("LocationPage", LocationSerializer)
StockMovementPageSerializer = page_serializer("StockMovementPage", StockMovementSerializer)
ProductEventPageSerializer = page_serializer("ProductEventPage", ProductEventSerializer)
