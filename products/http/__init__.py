"""The HTTP layer: viewsets, serializers, the OpenAPI schema, permissions, idempotency, errors, health."""
