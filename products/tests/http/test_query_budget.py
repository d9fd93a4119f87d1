"""An anonymous read costs one SQL query, whatever the page or filter."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(make_category, make_product, client):
    slug = make_category()
    product_id = make_product(category=slug, initial_stock=3)
    for number in range(30):
        make_product(sku=f"P{number:02d}", category=slug)
    for _ in range(5):
        client.post(f"/api/products/{product_id}/stock/", {"delta": 1})
    return product_id


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/{id}/",
        "/api/products/",
        "/api/products/?search=product&in_stock=false&min_price=1&max_price=50&ordering=-price&page_size=5",
        "/api/products/{id}/stock/",
        "/api/products/{id}/stock/movements/",
        "/api/products/{id}/stock/movements/?page_size=2",
        "/api/categories/",
    ],
)
def test_an_anonymous_get_costs_one_query(anon_client, product, path, django_assert_num_queries):
    url = path.format(id=product)
    with django_assert_num_queries(1):
        response = anon_client.get(url)
    assert response.status_code == 200
    next_url = response.json().get("next")
    if next_url:
        with django_assert_num_queries(1):
            assert anon_client.get(next_url).status_code == 200
