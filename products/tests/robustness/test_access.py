"""Access: every write operation the OpenAPI schema lists answers 401 without credentials and
403 without the permission, and changes nothing."""

import re
from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.write import commands

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")

# A valid body for each write, so that a missing permission check would show as a change.
BODIES = {
    ("post", "/api/categories/"): {"name": "New category"},
    ("patch", "/api/categories/{slug}/"): {"name": "Renamed"},
    ("post", "/api/locations/"): {"code": "new", "name": "New location"},
    ("patch", "/api/locations/{code}/"): {"name": "Renamed", "is_active": False},
    ("post", "/api/products/"): {"sku": "NEW-1", "name": "New", "price": "1.00", "initial_stock": 3},
    ("put", "/api/products/{id}/"): {"name": "Replaced", "description": "", "category": None, "price": "2.00"},
    ("patch", "/api/products/{id}/"): {"name": "Changed"},
    ("post", "/api/products/{id}/stock/"): {"delta": -1},
}


def _write_operations(anon_client):
    response = anon_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    return sorted(
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in WRITE_METHODS
    )


def _fill(path, values):
    def value(match):
        return values[match.group(1)]

    return re.sub(r"\{(\w+)\}", value, path)


def test_every_write_operation_refuses_anonymous_and_unpermitted_clients(anon_client, plain_client, snapshot):
    category = bus.dispatch(commands.CreateCategory(slug="tools", name="Tools"))["slug"]
    product_id = bus.dispatch(
        commands.CreateProduct(sku="ACL-1", name="Guarded", price=Decimal("1.00"), category=category, initial_stock=5)
    )["id"]
    operations = _write_operations(anon_client)
    # The schema must still list the writes this test was written for (it may list more).
    assert set(BODIES) | {("delete", "/api/products/{id}/")} <= set(operations)

    before = snapshot()
    for method, template in operations:
        path = _fill(template, {"id": str(product_id), "slug": category, "pk": str(product_id), "code": "main"})
        body = BODIES.get((method, template), {})
        for client, expected in ((anon_client, 401), (plain_client, 403)):
            response = getattr(client, method)(path, body, format="json")
            assert response.status_code == expected, (method, path, response.status_code, response.content[:300])
            assert response.json()["detail"]
            if expected == 401:
                assert response.has_header("WWW-Authenticate")
    assert snapshot() == before
