"""OpenAPI generation details that serializers and views cannot express by themselves."""

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

NO_NUL_PATTERN = "^[^\\u0000]*$"


class InventoryAutoSchema(AutoSchema):
    """Mark reads as open to anonymous clients unless ``API_READS_REQUIRE_AUTH`` closes them."""

    def get_auth(self):
        auth = super().get_auth()
        if self.method in SAFE_METHODS and not settings.API_READS_REQUIRE_AUTH and {} not in auth:
            auth.append({})
        return auth


def tighten_request_bodies(result, generator, request, public):
    """Say what the input serializers enforce: no unknown fields, one kind of stock change."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                # PostgreSQL text cannot hold NUL, and DRF refuses it.
                if prop.get("type") == "string" and not {"pattern", "format", "enum"} & prop.keys():
                    prop["pattern"] = NO_NUL_PATTERN
    stock_change = schemas.get("StockChangeRequest")
    if stock_change is not None:
        stock_change["oneOf"] = [{"required": ["delta"]}, {"required": ["quantity"]}]
    return result
