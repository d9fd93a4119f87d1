"""GET /api/products/{id}/events/: a product's history from the event log."""

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db


def test_the_history_lists_every_event_of_the_product_oldest_first(client, anon_client, make_product):
    product_id = make_product(initial_stock=5)
    client.post(f"/api/products/{product_id}/stock/", {"delta": -2, "reason": "sale"}, format="json")
    client.patch(f"/api/products/{product_id}/", {"name": "Renamed"}, format="json")
    client.delete(f"/api/products/{product_id}/")
    response = anon_client.get(f"/api/products/{product_id}/events/")
    assert response.status_code == 200  # archived products keep their history
    events = response.json()["results"]
    assert [event["type"] for event in events] == [
        "ProductCreated",
        "StockAdjusted",
        "ProductDetailsUpdated",
        "ProductArchived",
    ]
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)
    assert events[1]["data"]["product"]["quantity"] == 3
    assert events[1]["data"]["movement"]["reason"] == "sale"
    assert events[2]["data"]["product"]["name"] == "Renamed"
    assert events[0]["occurred_at"].endswith("Z")


def test_the_history_is_one_query_and_pages_by_next(anon_client, client, make_product, django_assert_num_queries):
    product_id = make_product(initial_stock=50)
    for _ in range(4):
        client.post(f"/api/products/{product_id}/stock/", {"delta": -1}, format="json")
    with django_assert_num_queries(1, connection=connections["default"]):
        first = anon_client.get(f"/api/products/{product_id}/events/?page_size=2").json()
    types = [event["type"] for event in first["results"]]
    url = first["next"]
    while url:
        page = anon_client.get(url).json()
        types += [event["type"] for event in page["results"]]
        url = page["next"]
    assert types == ["ProductCreated"] + ["StockAdjusted"] * 4


def test_an_unknown_product_has_no_history(anon_client):
    response = anon_client.get("/api/products/00000000-0000-0000-0000-000000000000/events/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found."}
