import pytest


@pytest.mark.django_db
def test_create_then_read_product(client):
    created = client.post("/api/products/", {"sku": "A-1", "name": "A", "price": "1.00", "initial_stock": 3})
    assert created.status_code == 201, created.content
    got = client.get(f"/api/products/{created.json()['id']}/")
    assert got.json()["quantity"] == 3
