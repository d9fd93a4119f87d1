"""Stock per location over HTTP: POST .../stock/ at a location, GET .../stock/ locations,
ledger fields, reorder points and the product list's location and low_stock filters."""

from decimal import Decimal

import pytest

from products.write.models import StockLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(client):
    assert client.post("/api/locations/", {"code": "east", "name": "East depot"}, format="json").status_code == 201
    return "east"


def stock_url(product_id):
    return f"/api/products/{product_id}/stock/"


def test_a_stock_change_goes_to_the_location_given_and_the_total_is_the_sum(client, make_product, east):
    product_id = make_product(sku="LOC-1", initial_stock=10)
    response = client.post(stock_url(product_id), {"delta": 3, "location": east, "reason": "delivery"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["quantity"], response.json()["version"]) == (13, 2)
    response = client.post(stock_url(product_id), {"quantity": 2, "location": east}, format="json")
    assert response.json()["quantity"] == 12
    stock = client.get(stock_url(product_id)).json()
    assert stock["quantity"] == 12
    assert stock["locations"] == [
        {"location": "east", "quantity": 2, "reserved": 0, "available": 2},
        {"location": "main", "quantity": 10, "reserved": 0, "available": 10},
    ]
    assert client.get(f"/api/products/{product_id}/").json()["quantity"] == 12
    rows = client.get(f"{stock_url(product_id)}movements/").json()["results"]
    assert [(row["location"], row["delta"], row["quantity_after"], row["reference"]) for row in rows] == [
        ("east", -1, 2, None),
        ("east", 3, 3, None),
        ("main", 10, 10, None),
    ]


def test_without_a_location_a_change_goes_to_main(client, make_product, east):
    product_id = make_product(initial_stock=1)
    assert client.post(stock_url(product_id), {"delta": 4}, format="json").status_code == 200
    assert StockLevel.objects.get(product_id=product_id, location__code="main").quantity == 5


@pytest.mark.parametrize(
    ("location", "message"),
    [("nowhere", "does not exist"), ("east", "inactive location takes no new stock"), ("Not A Code", "")],
)
def test_an_unknown_inactive_or_malformed_location_is_a_400_on_location(client, make_product, east, location, message):
    product_id = make_product(initial_stock=4)
    assert client.patch(f"/api/locations/{east}/", {"is_active": False}, format="json").status_code == 200
    for body in ({"delta": 1}, {"delta": -1}, {"quantity": 9}):
        response = client.post(stock_url(product_id), {**body, "location": location}, format="json")
        assert response.status_code == 400, response.content
        assert message in response.json()["location"][0]
    assert client.get(stock_url(product_id)).json()["version"] == 1


def test_removing_more_than_a_location_holds_is_a_409_though_others_hold_enough(client, make_product, east):
    product_id = make_product(initial_stock=100)
    client.post(stock_url(product_id), {"delta": 2, "location": east}, format="json")
    response = client.post(stock_url(product_id), {"delta": -3, "location": east}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert client.get(stock_url(product_id)).json()["quantity"] == 102


def test_reorder_point_is_writable_by_post_patch_and_put_and_shown(client):
    response = client.post(
        "/api/products/", {"sku": "RP-1", "name": "Rope", "price": "3.00", "reorder_point": 5}, format="json"
    )
    assert response.status_code == 201, response.content
    product = response.json()
    assert product["reorder_point"] == 5
    url = f"/api/products/{product['id']}/"
    assert client.patch(url, {"reorder_point": 8}, format="json").json()["reorder_point"] == 8
    assert client.get(url).json()["reorder_point"] == 8
    put = {"name": "Rope", "description": "", "category": None, "price": "3.00", "reorder_point": 2}
    assert client.put(url, put, format="json").json()["reorder_point"] == 2
    del put["reorder_point"]
    assert client.put(url, put, format="json").json()["reorder_point"] == 2  # a v1 client's PUT keeps it
    for value in (-1, 1.5, "2"):
        response = client.patch(url, {"reorder_point": value}, format="json")
        assert response.status_code == 400
        assert "reorder_point" in response.json()
    assert client.post("/api/products/", {"sku": "RP-2", "name": "R", "price": "1"}).json()["reorder_point"] == 0


@pytest.fixture
def stocked(client, make_product, east):
    """LOW has 2 (reorder at 5), EXACT 5 (at 5), PLENTY 50 at main and 1 at east, NONE 0."""
    ids = {}
    for sku, stock, reorder in (("LOW", 2, 5), ("EXACT", 5, 5), ("PLENTY", 50, 5), ("NONE", 0, 0)):
        ids[sku] = make_product(sku=sku, initial_stock=stock, price=Decimal(1))
        client.patch(f"/api/products/{ids[sku]}/", {"reorder_point": reorder}, format="json")
    client.post(stock_url(ids["PLENTY"]), {"delta": 1, "location": east}, format="json")
    client.post(stock_url(ids["LOW"]), {"quantity": 0, "location": east}, format="json")  # held, now none
    return ids


def skus(response):
    assert response.status_code == 200, response.content
    return [row["sku"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("low_stock=true", ["EXACT", "LOW", "NONE"]),
        ("low_stock=false", ["PLENTY"]),
        ("location=east", ["PLENTY"]),
        ("location=main", ["EXACT", "LOW", "PLENTY"]),
        ("location=main&low_stock=true", ["EXACT", "LOW"]),
        ("location=nowhere", []),
    ],
)
def test_the_list_filters_by_location_and_low_stock(anon_client, stocked, query, expected):
    assert skus(anon_client.get(f"/api/products/?{query}")) == expected


def test_a_malformed_location_filter_is_a_400(anon_client):
    assert anon_client.get("/api/products/?location=Not%20a%20code").status_code == 400
