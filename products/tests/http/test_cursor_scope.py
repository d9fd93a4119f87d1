"""A cursor is good only on the list it came from: the same endpoint, product, filters and ordering.

Anywhere else it would start the page after a row of another list, so it is a 400 on
``cursor``, never a page. ``page_size`` is no part of a list: it may change between pages.
"""

from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.tests.support import cursor_of
from products.write import commands

pytestmark = pytest.mark.django_db


def assert_foreign(response):
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["cursor"]
    assert "another list" in response.json()["cursor"][0]


@pytest.fixture
def two_products(make_product):
    """Two products, each with 3 ledger rows and 3 events."""
    products = [
        make_product(initial_stock=5, price=Decimal("5.00")),
        make_product(initial_stock=5, price=Decimal("6.00")),
    ]
    for product in products:
        for delta in (1, 2):
            bus.dispatch(commands.AdjustStock(product_id=product, delta=delta))
    return products


@pytest.mark.parametrize("path", ["stock/movements", "events"])
def test_a_cursor_of_one_products_list_is_refused_on_another_products(anon_client, two_products, path):
    first, second = two_products
    page = anon_client.get(f"/api/products/{first}/{path}/?page_size=1").json()
    cursor = cursor_of(page["next"])
    assert_foreign(anon_client.get(f"/api/products/{second}/{path}/?page_size=1&cursor={cursor}"))
    previous = cursor_of(anon_client.get(page["next"]).json()["previous"])
    assert_foreign(anon_client.get(f"/api/products/{second}/{path}/?cursor={previous}"))
    # On its own list, the same cursors work, whatever the page size.
    assert anon_client.get(f"/api/products/{first}/{path}/?page_size=2&cursor={cursor}").status_code == 200
    assert anon_client.get(f"/api/products/{first}/{path}/?cursor={previous}").status_code == 200


def test_a_cursor_of_a_products_ledger_is_refused_on_its_events(anon_client, two_products):
    product = two_products[0]
    cursor = cursor_of(anon_client.get(f"/api/products/{product}/stock/movements/?page_size=1").json()["next"])
    assert_foreign(anon_client.get(f"/api/products/{product}/events/?cursor={cursor}"))
    cursor = cursor_of(anon_client.get(f"/api/products/{product}/events/?page_size=1").json()["next"])
    assert_foreign(anon_client.get(f"/api/products/{product}/stock/movements/?cursor={cursor}"))


def test_a_product_id_in_capitals_is_the_same_list(anon_client, two_products):
    product = str(two_products[0])
    cursor = cursor_of(anon_client.get(f"/api/products/{product}/events/?page_size=1").json()["next"])
    assert anon_client.get(f"/api/products/{product.upper()}/events/?cursor={cursor}").status_code == 200


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("ordering=price", "ordering=-price"),
        ("ordering=price", "ordering=name"),
        ("", "min_price=5"),
        ("min_price=5", "min_price=6"),
        ("max_price=9", ""),
        ("search=product", "search=other"),
        ("in_stock=true", "in_stock=false"),
        ("", "location=main"),
        ("low_stock=false", ""),
    ],
)
def test_a_product_list_cursor_is_refused_with_other_filters_or_ordering(anon_client, two_products, first, then):
    page = anon_client.get(f"/api/products/?page_size=1&{first}").json()
    assert page["next"], page
    assert_foreign(anon_client.get(f"/api/products/?{then}&cursor={cursor_of(page['next'])}"))


def test_a_product_list_cursor_is_good_with_the_same_filters_in_any_order_or_page_size(anon_client, two_products):
    page = anon_client.get("/api/products/?page_size=1&min_price=5&ordering=-price&search=product").json()
    cursor = cursor_of(page["next"])
    response = anon_client.get(f"/api/products/?search=product&ordering=-price&min_price=5.00&cursor={cursor}")
    assert response.status_code == 200, response.content
    assert [row["price"] for row in response.json()["results"]] == ["5.00"]


def test_a_category_cursor_is_refused_on_the_locations(anon_client, client, make_category):
    for name in ("A", "B"):
        make_category(name=name)
        client.post("/api/locations/", {"code": name.lower(), "name": name}, format="json")
    cursor = cursor_of(anon_client.get("/api/categories/?page_size=1").json()["next"])
    assert_foreign(anon_client.get(f"/api/locations/?cursor={cursor}"))
    cursor = cursor_of(anon_client.get("/api/locations/?page_size=1").json()["next"])
    assert_foreign(anon_client.get(f"/api/categories/?cursor={cursor}"))


def test_a_reservation_list_cursor_is_refused_with_another_status_or_reference(client, two_products):
    for product in two_products:
        lines = [{"product": str(product), "quantity": 1}]
        assert client.post("/api/reservations/", {"lines": lines, "reference": "r"}, format="json").status_code == 201
    cursor = cursor_of(client.get("/api/reservations/?page_size=1&status=active").json()["next"])
    assert client.get(f"/api/reservations/?status=active&cursor={cursor}").status_code == 200
    assert_foreign(client.get(f"/api/reservations/?cursor={cursor}"))
    assert_foreign(client.get(f"/api/reservations/?status=active&reference=r&cursor={cursor}"))
