"""POST /api/stock/adjustments/ and /api/stock/transfers/: many stock changes, all or nothing."""

import uuid

import pytest

from products.read import rebuild
from products.write.models import EventRecord, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(client):
    client.post("/api/locations/", {"code": "east", "name": "East warehouse"}, format="json")
    return "east"


@pytest.fixture
def products(make_product):
    return [str(make_product(sku=f"BAT-{n}", initial_stock=10)) for n in range(3)]


def stock_at(client, product):
    return {
        row["location"]: (row["quantity"], row["available"])
        for row in client.get(f"/api/products/{product}/stock/").json()["locations"]
    }


def test_a_batch_applies_every_line_and_answers_each_lines_stock(client, products, east):
    body = {
        "lines": [
            {"product": products[0], "delta": 5},
            {"product": products[1], "quantity": 3},
            {"product": products[2], "delta": 4, "location": east},
        ],
        "reason": "delivery",
        "reference": "PO-17",
    }
    response = client.post("/api/stock/adjustments/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "lines": [
            {"product": products[0], "location": "main", "quantity": 15, "available": 15},
            {"product": products[1], "location": "main", "quantity": 3, "available": 3},
            {"product": products[2], "location": "east", "quantity": 4, "available": 4},
        ]
    }
    assert stock_at(client, products[2]) == {"east": (4, 4), "main": (10, 10)}
    rows = StockMovement.objects.filter(reference="PO-17").order_by("id")
    assert [(row.delta, row.reason) for row in rows] == [(5, "delivery"), (-7, "delivery"), (4, "delivery")]
    assert [record.type for record in EventRecord.objects.order_by("-id")[:3]] == [
        "StockAdjusted",
        "StockSet",
        "StockAdjusted",
    ][::-1]
    assert rebuild.differences() == []


def test_a_batch_with_any_bad_line_changes_nothing_and_lists_every_one(client, products):
    client.post("/api/reservations/", {"lines": [{"product": products[1], "quantity": 4}]}, format="json")
    before = list(StockMovement.objects.values_list("id", flat=True))
    body = {
        "lines": [
            {"product": products[0], "delta": -1},
            {"product": products[1], "delta": -7},  # 10 on hand, 4 reserved: 6 available
            {"product": products[2], "delta": -11},
        ]
    }
    response = client.post("/api/stock/adjustments/", body, format="json")
    assert response.status_code == 409
    answer = response.json()
    assert answer["code"] == "insufficient_stock"
    assert answer["lines"] == [
        {"product": products[1], "location": "main", "quantity": 10, "available": 6, "requested": -7},
        {"product": products[2], "location": "main", "quantity": 10, "available": 10, "requested": -11},
    ]
    assert list(StockMovement.objects.values_list("id", flat=True)) == before


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"product": str(uuid.uuid4()), "delta": 0}],
        [{"product": str(uuid.uuid4()), "delta": 1, "quantity": 1}],
        [{"product": "x", "delta": 1}],
    ],
)
def test_bad_batches_are_400(client, lines):
    assert client.post("/api/stock/adjustments/", {"lines": lines}, format="json").status_code == 400


def test_a_batch_naming_a_line_twice_or_an_unknown_product_is_400(client, products):
    twice = [{"product": products[0], "delta": 1}, {"product": products[0], "delta": 2}]
    assert client.post("/api/stock/adjustments/", {"lines": twice}, format="json").status_code == 400
    unknown = [{"product": products[0], "delta": 1}, {"product": str(uuid.uuid4()), "delta": 2}]
    assert client.post("/api/stock/adjustments/", {"lines": unknown}, format="json").status_code == 400
    assert stock_at(client, products[0]) == {"main": (10, 10)}


def test_a_transfer_moves_stock_and_keeps_the_totals(client, products, east):
    body = {"from": "main", "to": east, "lines": [{"product": products[0], "quantity": 4}], "reference": "T-1"}
    response = client.post("/api/stock/transfers/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "lines": [
            {
                "product": products[0],
                "from": {"location": "main", "quantity": 6, "available": 6},
                "to": {"location": "east", "quantity": 4, "available": 4},
            }
        ]
    }
    assert client.get(f"/api/products/{products[0]}/").json()["quantity"] == 10
    rows = StockMovement.objects.filter(reference="T-1").order_by("id")
    assert [(row.location.code, row.delta, row.reason) for row in rows] == [
        ("main", -4, "transfer"),
        ("east", 4, "transfer"),
    ]
    assert EventRecord.objects.latest("id").type == "StockTransferred"
    assert rebuild.differences() == []


def test_a_transfer_lacking_available_stock_moves_nothing(client, products, east):
    client.post("/api/reservations/", {"lines": [{"product": products[0], "quantity": 8}]}, format="json")
    body = {"from": "main", "to": east, "lines": [{"product": products[0], "quantity": 3}]}
    response = client.post("/api/stock/transfers/", body, format="json")
    assert response.status_code == 409
    assert response.json()["lines"] == [
        {"product": products[0], "location": "main", "quantity": 10, "available": 2, "requested": 3}
    ]
    assert stock_at(client, products[0]) == {"main": (10, 2)}


def test_a_transfer_to_the_same_or_an_inactive_location_is_400(client, products, east):
    same = {"from": "main", "to": "main", "lines": [{"product": products[0], "quantity": 1}]}
    assert client.post("/api/stock/transfers/", same, format="json").status_code == 400
    client.patch(f"/api/locations/{east}/", {"is_active": False}, format="json")
    inactive = {"from": "main", "to": east, "lines": [{"product": products[0], "quantity": 1}]}
    assert client.post("/api/stock/transfers/", inactive, format="json").status_code == 400
    assert stock_at(client, products[0]) == {"main": (10, 10)}


def test_batches_and_transfers_need_the_stock_permission(plain_client, clerk_client, products):
    body = {"lines": [{"product": products[0], "delta": 1}]}
    assert plain_client.post("/api/stock/adjustments/", body, format="json").status_code == 403
    assert clerk_client.post("/api/stock/adjustments/", body, format="json").status_code == 200


def low_events(product):
    return [
        (record.payload["available"], record.payload["reorder_point"])
        for record in EventRecord.objects.filter(type="StockLow", product_id=product).order_by("id")
    ]


def test_stock_low_is_appended_when_available_falls_to_the_reorder_point(client, make_product):
    product = str(make_product(sku="LOW-1", initial_stock=10, reorder_point=4))
    client.post(f"/api/products/{product}/stock/", {"delta": -5}, format="json")  # 5 available: above
    assert low_events(product) == []
    client.post("/api/reservations/", {"lines": [{"product": product, "quantity": 1}]}, format="json")  # 4: at it
    assert low_events(product) == [(4, 4)]
    client.post(f"/api/products/{product}/stock/", {"delta": -1}, format="json")  # 3: still low, no new event
    client.post(f"/api/products/{product}/stock/", {"delta": 3}, format="json")  # 6: above again
    client.post("/api/stock/adjustments/", {"lines": [{"product": product, "quantity": 2}]}, format="json")
    assert low_events(product) == [(4, 4), (1, 4)]
    assert client.get("/api/products/?low_stock=true").json()["results"][0]["id"] == product


def test_a_transfer_appends_no_stock_low_for_the_total_stays(client, make_product, east):
    product = str(make_product(sku="LOW-2", initial_stock=10, reorder_point=8))
    body = {"from": "main", "to": east, "lines": [{"product": product, "quantity": 5}]}
    assert client.post("/api/stock/transfers/", body, format="json").status_code == 200
    assert low_events(product) == []
    client.post(f"/api/products/{product}/stock/", {"delta": -2, "location": east}, format="json")
    [low] = EventRecord.objects.filter(type="StockLow", product_id=product)
    assert low.id > EventRecord.objects.filter(type="StockAdjusted", product_id=product).latest("id").id  # after it


def test_a_refused_line_is_a_400_that_a_retry_with_the_same_key_replays(client):
    body = {"lines": [{"product": str(uuid.uuid4())}]}  # neither delta nor quantity
    first = client.post("/api/stock/adjustments/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = client.post("/api/stock/adjustments/", body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == again.status_code == 400
    assert (
        first.json()
        == again.json()
        == {"lines": {"0": {"non_field_errors": ["Send exactly one of delta and quantity."]}}}
    )
