"""Requests the API refuses: always JSON, never a 500."""

import uuid

import pytest

from products.write.models import Product

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400(client):
    response = client.post("/api/products/", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not Product.objects.exists()


@pytest.mark.parametrize("body", ["[]", "null", '"text"', "42"])
def test_a_json_body_that_is_not_an_object_is_a_400(client, body):
    response = client.post("/api/products/", body, content_type="application/json")
    assert response.status_code == 400
    assert not Product.objects.exists()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_an_unsupported_content_type_is_a_415(client, content_type):
    response = client.post("/api/products/", '{"sku": "A"}', content_type=content_type)
    assert response.status_code == 415
    assert "detail" in response.json()


def test_a_body_over_the_size_limit_is_a_413(client):
    response = client.post("/api/products/", "x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope/",
        "/api/products/not-a-uuid/",
        "/api/products/123/stock/",
        "/api/products/x/stock/movements/",
        f"/api/products/{uuid.uuid4()}/nope/",
        "/api/categories/a/b/",
    ],
)
def test_unknown_paths_under_api_are_json_404s(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


def test_a_write_to_a_non_uuid_product_path_is_a_json_404(client):
    response = client.patch("/api/products/not-a-uuid/", {"name": "X"})
    assert response.status_code == 404
    assert "detail" in response.json()


def test_an_unsupported_method_is_a_json_405(client):
    response = client.delete("/api/products/")
    assert response.status_code == 405
    assert "detail" in response.json()
