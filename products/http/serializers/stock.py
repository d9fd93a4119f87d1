"""Serializers of a product's stock: a change, its levels per location, the ledger."""

from rest_framework import serializers

from products.http.serializers.common import (
    DeltaField,
    StrictSerializer,
    location_code_field,
    page_serializer,
)
from products.write.models import MAIN_LOCATION, MAX_QUANTITY


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


StockMovementPageSerializer = page_serializer("StockMovementPage", StockMovementSerializer)
