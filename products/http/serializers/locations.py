"""Serializers of locations."""

from rest_framework import serializers

from products.http.serializers.common import (
    StrictSerializer,
    location_code_field,
    page_serializer,
)


class LocationCreateSerializer(StrictSerializer):
    code = location_code_field(help_text="a-z 0-9 _ -; cannot be changed later.")
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


LocationPageSerializer = page_serializer("LocationPage", LocationSerializer)
