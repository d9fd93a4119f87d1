"""Serializers of products: their details, the list's parameters, the representation, the event history."""

from rest_framework import serializers

from products.http.serializers.common import (
    SKU_PATTERN,
    PageParamsSerializer,
    PriceField,
    PriceFilterField,
    StrictSerializer,
    identifier_field,
    location_code_field,
    page_serializer,
    slug_field,
)
from products.read.queries.products import PRODUCT_ORDERINGS
from products.write.models import MAX_QUANTITY


class ProductDetailsSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    category = slug_field(allow_null=True, required=False, default=None)
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
    category = slug_field(allow_null=True)
    reorder_point = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        required=False,
        help_text="At or below it (the quantity over all locations), the product is low on stock. Left out: kept.",
    )


class ProductCreateSerializer(ProductDetailsSerializer):
    sku = identifier_field(SKU_PATTERN, min_length=1, max_length=64, help_text="A-Z a-z 0-9 . _ -")
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


_ORDERING_CHOICES = [name for field in PRODUCT_ORDERINGS for name in (field, f"-{field}")]


class ProductListParamsSerializer(PageParamsSerializer):
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Every word must start a word of the SKU, name or description (case-insensitive).",
    )
    category = slug_field(required=False, help_text="Category slug.")
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


ProductPageSerializer = page_serializer("ProductPage", ProductSerializer)
ProductEventPageSerializer = page_serializer("ProductEventPage", ProductEventSerializer)
