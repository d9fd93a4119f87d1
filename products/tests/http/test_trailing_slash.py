"""Paths without their trailing slash are served, not redirected (a redirect loses a POST's body)."""

import pytest

from products.write.models import Product

pytestmark = pytest.mark.django_db


def test_post_without_the_trailing_slash_creates_the_product(client):
    response = client.post("/api/products", {"sku": "NS-1", "name": "No slash", "price": "1.00"})
    assert response.status_code == 201
    assert Product.objects.filter(sku="NS-1").exists()


def test_get_without_the_trailing_slash_answers_with_next_links_that_have_one(anon_client, make_product):
    make_product()
    make_product()
    response = anon_client.get("/api/products?page_size=1")
    assert response.status_code == 200
    assert response.json()["next"].startswith("http://testserver/api/products/?")


def test_an_unknown_path_without_a_slash_is_still_a_json_404(anon_client):
    response = anon_client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
