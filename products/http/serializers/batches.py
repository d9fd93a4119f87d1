"""Serializers of the multi-line stock requests: a batch of adjustments, a transfer; and their answers."""

from rest_framework import serializers

from products.http.serializers.common import DeltaField, StrictSerializer, location_code_field
from products.write.models import MAIN_LOCATION, MAX_QUANTITY

MAX_BATCH_LINES = 1000


def _distinct(lines, key):
    keys = [key(line) for line in lines]
    if len(set(keys)) != len(keys):
        raise serializers.ValidationError("Each (product, location) may appear in one line only.")
    return lines


class BatchLineSerializer(StrictSerializer):
    product = serializers.UUIDField(help_text="An active product's id.")
    delta = DeltaField(required=False, help_text="Relative change; not 0.")
    quantity = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_QUANTITY, help_text="Absolute quantity after a recount."
    )
    location = location_code_field(required=False, default=MAIN_LOCATION, help_text="An active location's code.")

    def validate(self, attrs):
        if ("delta" in attrs) == ("quantity" in attrs):
            raise serializers.ValidationError("Send exactly one of delta and quantity.")
        return attrs


class StockBatchSerializer(StrictSerializer):
    lines = serializers.ListField(child=BatchLineSerializer(), min_length=1, max_length=MAX_BATCH_LINES)
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    reference = serializers.CharField(max_length=200, required=False, allow_null=True, default=None)

    def validate_lines(self, lines):
        return _distinct(lines, lambda line: (line["product"], line["location"]))


class TransferLineSerializer(StrictSerializer):
    product = serializers.UUIDField(help_text="An active product's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


def _validate_transfer(self, attrs):
    if attrs["from"] == attrs["to"]:
        raise serializers.ValidationError({"to": ["Must differ from from."]})
    return attrs


# "from" is a Python keyword: the class is built with type() to declare it.
StockTransferSerializer = type(
    "StockTransferSerializer",
    (StrictSerializer,),
    {
        "__doc__": "Move stock between two active locations.",
        "from": location_code_field(help_text="The location the stock leaves."),
        "to": location_code_field(help_text="The location the stock goes to."),
        "lines": serializers.ListField(child=TransferLineSerializer(), min_length=1, max_length=MAX_BATCH_LINES),
        "reference": serializers.CharField(max_length=200, required=False, allow_null=True, default=None),
        "validate_lines": lambda self, lines: _distinct(lines, lambda line: line["product"]),
        "validate": _validate_transfer,
    },
)


class LocationStockSerializer(serializers.Serializer):
    location = serializers.CharField()
    quantity = serializers.IntegerField(help_text="At that location, after the change.")
    available = serializers.IntegerField(help_text="quantity - what active reservations hold there")


class BatchResultLineSerializer(LocationStockSerializer):
    product = serializers.UUIDField()


class StockBatchResultSerializer(serializers.Serializer):
    lines = BatchResultLineSerializer(many=True)


TransferResultLineSerializer = type(
    "TransferResultLineSerializer",
    (serializers.Serializer,),
    {"product": serializers.UUIDField(), "from": LocationStockSerializer(), "to": LocationStockSerializer()},
)


class StockTransferResultSerializer(serializers.Serializer):
    lines = TransferResultLineSerializer(many=True)


class StockLineFaultSerializer(serializers.Serializer):
    product = serializers.UUIDField()
    location = serializers.CharField()
    quantity = serializers.IntegerField(help_text="On hand there now.")
    available = serializers.IntegerField()
    requested = serializers.IntegerField(help_text="The line's delta (or counted quantity).")


class StockLinesRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text='"insufficient_stock"')
    lines = StockLineFaultSerializer(many=True, help_text="Every line at fault.")
