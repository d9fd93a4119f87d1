"""Serializers of reservations: the request that places one, extends one, filters the list; the answers."""

from rest_framework import serializers

from products.http.serializers.common import (
    PageParamsSerializer,
    StrictSerializer,
    location_code_field,
    page_serializer,
)
from products.read.queries.reservations import STATUS_FILTERS
from products.write.commands.reservations import DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN
from products.write.models import MAIN_LOCATION, MAX_QUANTITY

MAX_LINES = 100


class ReservationLineRequestSerializer(StrictSerializer):
    product = serializers.UUIDField(help_text="An active product's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    location = location_code_field(required=False, default=MAIN_LOCATION, help_text="An active location's code.")


def expires_in_field(**kwargs):
    return serializers.IntegerField(
        min_value=1, max_value=MAX_EXPIRES_IN, help_text="Seconds from now until the hold lapses.", **kwargs
    )


class ReservationCreateSerializer(StrictSerializer):
    lines = serializers.ListField(child=ReservationLineRequestSerializer(), min_length=1, max_length=MAX_LINES)
    expires_in = expires_in_field(required=False, default=DEFAULT_EXPIRES_IN)
    reference = serializers.CharField(
        max_length=200, required=False, allow_null=True, default=None, help_text="Your order or cart."
    )

    def validate_lines(self, lines):
        keys = [(line["product"], line["location"]) for line in lines]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each (product, location) may appear in one line only.")
        return lines


class EmptySerializer(StrictSerializer):
    """No fields: a commit or release takes none (an empty body or ``{}``)."""


class ReservationExtendSerializer(StrictSerializer):
    expires_in = expires_in_field()


class ReservationLineSerializer(serializers.Serializer):
    product = serializers.UUIDField()
    sku = serializers.CharField()
    location = serializers.CharField(help_text="A location's code.")
    quantity = serializers.IntegerField()


class ReservationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=list(STATUS_FILTERS),
        help_text="From expires_at on, an active reservation holds nothing and reads as expired.",
    )
    reference = serializers.CharField(allow_null=True)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    lines = ReservationLineSerializer(many=True)


class ReservationListParamsSerializer(PageParamsSerializer):
    status = serializers.ChoiceField(choices=list(STATUS_FILTERS), required=False)
    reference = serializers.CharField(max_length=200, required=False)


class ShortLineSerializer(serializers.Serializer):
    product = serializers.UUIDField()
    location = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class InsufficientStockSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text='"insufficient_stock"')
    lines = ShortLineSerializer(many=True, help_text="Every line that lacks stock.")


ReservationPageSerializer = page_serializer("ReservationPage", ReservationSerializer)
