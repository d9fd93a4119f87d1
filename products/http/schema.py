"""OpenAPI generation details that serializers and views cannot express by themselves.

The schema is also the source of generated clients (openapi-python-client, openapi-typescript;
`.ci/check-clients`), so it says things in the shapes those generators read as types.
"""

import json

from django.conf import settings
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

from products.http import serializers

NO_NUL_PATTERN = "^[^\\u0000]*$"


class InventoryAutoSchema(AutoSchema):
    """Mark reads as open to anonymous clients unless ``API_READS_REQUIRE_AUTH`` closes them."""

    def get_auth(self):
        auth = super().get_auth()
        if self.method in SAFE_METHODS and not settings.API_READS_REQUIRE_AUTH and {} not in auth:
            auth.append({})
        return auth

    def get_serializer_name(self, serializer, direction):
        # COMPONENT_SPLIT_REQUEST appends "Request" to every request component: without this,
        # ReservationLineRequestSerializer would be a client's ReservationLineRequestRequest.
        name = super().get_serializer_name(serializer, direction)
        return name.replace("RequestSerializer", "Serializer") if direction == "request" else name


def _exactly_one_of(serializer_class, first, second, description):
    """Return the variants of ``serializer_class`` that send ``first`` or ``second`` (required), not both.

    A bare ``oneOf`` of two ``required`` lists is valid JSON Schema, but generators read a ``oneOf``
    as a union of types (openapi-python-client wrote invalid Python from it); two named object
    schemas are a union every generator understands. The input serializer still does the checking.
    """
    fields = serializer_class().fields

    def variant(keep, drop):
        field = fields[keep]
        required = type(field)(*field._args, **{**field._kwargs, "required": True})
        name = serializer_class.__name__.replace("Serializer", f"By{keep.capitalize()}Serializer")
        doc = f"{description} by `{keep}` (without `{drop}`)."
        return type(name, (serializer_class,), {"__doc__": doc, keep: required, drop: None})

    return variant(first, second), variant(second, first)


class SkippingSessionScheme(SessionScheme):
    """Document products.http.authentication.SessionAuthentication as DRF's session authentication it is."""

    target_class = "products.http.authentication.SessionAuthentication"


class ExactlyOneOfExtension(OpenApiSerializerExtension):
    """Document an input serializer that takes exactly one of two fields as ``oneOf`` its variants."""

    description = ""
    variants = ()

    def map_serializer(self, auto_schema, direction):
        return {
            "description": self.description,
            "oneOf": [auto_schema.resolve_serializer(variant, direction).ref for variant in self.variants],
        }


class StockChangeExtension(ExactlyOneOfExtension):
    target_class = serializers.StockChangeSerializer
    description = "Exactly one of `delta` (relative) and `quantity` (absolute, a recount)."
    variants = _exactly_one_of(target_class, "delta", "quantity", "A change of a product's stock")


class BatchLineExtension(ExactlyOneOfExtension):
    target_class = serializers.BatchLineSerializer
    description = "Exactly one of `delta` (relative) and `quantity` (absolute, a recount)."
    variants = _exactly_one_of(target_class, "delta", "quantity", "A line of a batch")


class ValidationErrorExtension(OpenApiSerializerExtension):
    target_class = serializers.ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["additionalProperties"] = {}  # any field of the request may have messages
        return schema


def tighten_request_bodies(result, generator, request, public):
    """Say what the input serializers enforce (no unknown fields) and which fields may be left out."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                # PostgreSQL text cannot hold NUL, and DRF refuses it.
                if prop.get("type") == "string" and not {"pattern", "format", "enum"} & prop.keys():
                    prop["pattern"] = NO_NUL_PATTERN
                # Generators read a default as "always present": openapi-typescript makes such a
                # field required, though a request may leave it out. In words, it stays documented.
                if "default" in prop:
                    default = json.dumps(prop.pop("default"))
                    described = prop.get("description", "")
                    if "Default" not in described:
                        prop["description"] = f"{described} Default: {default}.".strip()
    return result
