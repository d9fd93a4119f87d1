"""Serializers of categories."""

from django.utils.text import slugify
from rest_framework import serializers

from products.http.serializers.common import (
    StrictSerializer,
    page_serializer,
    slug_field,
)


class CategoryCreateSerializer(StrictSerializer):
    name = serializers.CharField(min_length=1, max_length=100)
    slug = slug_field(required=False, help_text="Derived from the name when omitted.")

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


CategoryPageSerializer = page_serializer("CategoryPage", CategorySerializer)
