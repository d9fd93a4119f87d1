"""Request bodies Django cannot read safely are refused before any view sees them."""

import pytest

from products.write.models import StockMovement

pytestmark = pytest.mark.django_db


def test_a_chunked_body_gets_411_instead_of_being_read_as_empty(client, make_product):
    product_id = make_product(initial_stock=3)
    response = client.post(
        f"/api/products/{product_id}/stock/", {"delta": -1}, format="json", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert StockMovement.objects.filter(product_id=product_id).count() == 1


def test_a_body_over_the_limit_gets_413(client):
    response = client.post("/api/categories/", {"name": "x" * 2_000_000}, format="json")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
