"""The reservations endpoints: place, read, list, commit, release, extend (in split mode too)."""

import re
import uuid
from pathlib import Path

import pytest

from products.tests.support import lapse
from products.write.models import EventRecord, Reservation, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def products(make_product):
    return [str(make_product(sku=f"CART-{n}", initial_stock=10, reorder_point=2)) for n in range(2)]


def place(client, lines, **fields):
    return client.post("/api/reservations/", {"lines": lines, **fields}, format="json")


def stock(client, product):
    return client.get(f"/api/products/{product}/stock/").json()


def test_placing_holds_stock_and_answers_201_with_the_reservation(client, products):
    response = place(
        client,
        [{"product": products[0], "quantity": 3}, {"product": products[1], "quantity": 1}],
        reference="order-1042",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/reservations/{body['id']}/"
    assert set(body) == {"id", "status", "reference", "expires_at", "created_at", "lines"}
    assert (body["status"], body["reference"]) == ("active", "order-1042")
    assert body["lines"] == [
        {"product": products[0], "sku": "CART-0", "location": "main", "quantity": 3},
        {"product": products[1], "sku": "CART-1", "location": "main", "quantity": 1},
    ]
    assert client.get(body["Location"] if "Location" in body else f"/api/reservations/{body['id']}/").json() == {
        **body,
        "expires_at": client.get(f"/api/reservations/{body['id']}/").json()["expires_at"],
    }
    first = stock(client, products[0])
    assert (first["quantity"], first["reserved"], first["available"], first["in_stock"]) == (10, 3, 7, True)
    assert first["locations"] == [{"location": "main", "quantity": 10, "reserved": 3, "available": 7}]
    product = client.get(f"/api/products/{products[0]}/").json()
    assert (product["quantity"], product["reserved"], product["available"]) == (10, 3, 7)


def test_a_short_line_refuses_the_whole_reservation_with_409_listing_every_short_line(client, products):
    response = place(client, [{"product": products[0], "quantity": 11}, {"product": products[1], "quantity": 1}])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["lines"] == [{"product": products[0], "location": "main", "requested": 11, "available": 10}]
    assert not Reservation.objects.exists()
    assert stock(client, products[1])["reserved"] == 0


def test_held_stock_cannot_be_sold_twice(client, products):
    assert place(client, [{"product": products[0], "quantity": 8}]).status_code == 201
    assert place(client, [{"product": products[0], "quantity": 3}]).status_code == 409
    response = client.post(f"/api/products/{products[0]}/stock/", {"delta": -3}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert client.post(f"/api/products/{products[0]}/stock/", {"quantity": 7}, format="json").status_code == 409
    assert client.post(f"/api/products/{products[0]}/stock/", {"delta": -2}, format="json").status_code == 200
    assert stock(client, products[0])["available"] == 0


def test_commit_takes_the_stock_out_with_sale_ledger_rows(client, products):
    reservation = place(client, [{"product": products[0], "quantity": 3}], reference="order-7").json()
    response = client.post(f"/api/reservations/{reservation['id']}/commit/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "committed"
    after = stock(client, products[0])
    assert (after["quantity"], after["reserved"], after["available"]) == (7, 0, 7)
    movement = StockMovement.objects.filter(product_id=products[0]).latest("id")
    assert (movement.delta, movement.reason, movement.reference) == (-3, "sale", "order-7")
    again = client.post(f"/api/reservations/{reservation['id']}/commit/")
    assert (again.status_code, again.json()["code"]) == (409, "reservation_committed")
    assert client.post(f"/api/reservations/{reservation['id']}/release/").json()["code"] == "reservation_committed"


def test_a_commit_at_a_location_made_inactive_is_400_on_location_and_the_reservation_stays_active(client, products):
    assert client.post("/api/locations/", {"code": "east", "name": "East"}, format="json").status_code == 201
    assert client.post(f"/api/products/{products[0]}/stock/", {"delta": 5, "location": "east"}).status_code == 200
    lines = [{"product": products[0], "quantity": 2}, {"product": products[0], "quantity": 3, "location": "east"}]
    reservation = place(client, lines).json()
    assert client.patch("/api/locations/east/", {"is_active": False}, format="json").status_code == 200

    response = client.post(f"/api/reservations/{reservation['id']}/commit/")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["location"]
    assert client.get(f"/api/reservations/{reservation['id']}/").json()["status"] == "active"
    after = stock(client, products[0])
    assert (after["quantity"], after["reserved"], after["available"]) == (15, 5, 10)
    assert not StockMovement.objects.filter(reason="sale").exists()
    # It may wait for the location or give up.
    extended = client.post(f"/api/reservations/{reservation['id']}/extend/", {"expires_in": 600}, format="json")
    assert extended.status_code == 200, extended.content
    released = client.post(f"/api/reservations/{reservation['id']}/release/")
    assert (released.status_code, released.json()["status"]) == (200, "released")


def _contract_sentences(*words):
    """Return the sentences of docs/API.md that hold every one of ``words``."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "API.md").read_text()
    sentences = []
    for paragraph in text.split("\n\n"):
        if paragraph.lstrip().startswith("|"):
            sentences += paragraph.splitlines()  # a table: each row says one thing
        else:
            sentences += re.split(r"(?<=[.;])\s+", " ".join(paragraph.split()))
    return [sentence for sentence in sentences if all(word in sentence.lower() for word in words)]


def test_a_commit_of_a_reservation_holding_an_archived_product_is_answered_as_the_contract_says_everywhere(
    client, products
):
    reservation = place(client, [{"product": products[0], "quantity": 2}, {"product": products[1], "quantity": 1}])
    assert client.delete(f"/api/products/{products[1]}/").status_code == 204

    response = client.post(f"/api/reservations/{reservation.json()['id']}/commit/")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["non_field_errors"]
    assert client.get(f"/api/reservations/{reservation.json()['id']}/").json()["status"] == "active"
    assert stock(client, products[0])["reserved"] == 2
    # Every sentence of the contract about it states this answer, and no other.
    sentences = _contract_sentences("archived", "commit")
    assert sentences
    for sentence in sentences:
        assert set(re.findall(r"\b[1-5]\d\d\b", sentence)) == {"400"}, sentence


def test_release_makes_the_stock_available_again(client, products):
    reservation = place(client, [{"product": products[0], "quantity": 4}]).json()
    response = client.post(f"/api/reservations/{reservation['id']}/release/")
    assert (response.status_code, response.json()["status"]) == (200, "released")
    assert stock(client, products[0])["available"] == 10
    again = client.post(f"/api/reservations/{reservation['id']}/commit/")
    assert (again.status_code, again.json()["code"]) == (409, "reservation_released")


def test_an_expired_reservation_holds_nothing_without_any_job(client, products):
    reservation = place(client, [{"product": products[0], "quantity": 10}], expires_in=60).json()
    assert stock(client, products[0])["available"] == 0
    lapse(reservation["id"])
    assert stock(client, products[0])["available"] == 10
    assert client.get(f"/api/reservations/{reservation['id']}/").json()["status"] == "expired"
    response = client.post(f"/api/reservations/{reservation['id']}/commit/")
    assert (response.status_code, response.json()["code"]) == (409, "reservation_expired")
    assert place(client, [{"product": products[0], "quantity": 10}]).status_code == 201


def test_extend_moves_the_expiry(client, products):
    reservation = place(client, [{"product": products[0], "quantity": 1}], expires_in=60).json()
    response = client.post(f"/api/reservations/{reservation['id']}/extend/", {"expires_in": 3600}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["expires_at"] > reservation["expires_at"]
    lapse(reservation["id"])
    late = client.post(f"/api/reservations/{reservation['id']}/extend/", {"expires_in": 3600}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "reservation_expired")


def test_list_filters_by_status_and_reference_newest_first(client, products):
    first = place(client, [{"product": products[0], "quantity": 1}], reference="a").json()
    second = place(client, [{"product": products[1], "quantity": 1}], reference="b").json()
    client.post(f"/api/reservations/{first['id']}/release/")
    assert [r["id"] for r in client.get("/api/reservations/").json()["results"]] == [second["id"], first["id"]]
    assert [r["id"] for r in client.get("/api/reservations/?status=active").json()["results"]] == [second["id"]]
    assert [r["id"] for r in client.get("/api/reservations/?reference=a").json()["results"]] == [first["id"]]


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"product": "not-a-uuid", "quantity": 1}],
        [{"quantity": 1}],
        [{"product": str(uuid.uuid4()), "quantity": 0}],
    ],
)
def test_bad_lines_are_400_and_reserve_nothing(client, lines):
    assert place(client, lines).status_code == 400
    assert not Reservation.objects.exists()


def test_unknown_product_or_location_is_400(client, products):
    assert place(client, [{"product": str(uuid.uuid4()), "quantity": 1}]).status_code == 400
    assert place(client, [{"product": products[0], "quantity": 1, "location": "nowhere"}]).status_code == 400
    assert not Reservation.objects.exists()


def test_placing_appends_its_event(client, products):
    reservation = place(client, [{"product": products[0], "quantity": 2}]).json()
    record = EventRecord.objects.latest("id")
    assert record.type == "ReservationPlaced"
    assert record.payload["reservation"]["id"] == reservation["id"]
    assert [hold["quantity"] for hold in record.payload["holds"]] == [2]


def test_reading_reservations_costs_one_query_each(client, anon_client, products, django_assert_num_queries):
    reservation = place(client, [{"product": products[0], "quantity": 1}], reference="r-1").json()
    with django_assert_num_queries(1):
        assert anon_client.get(f"/api/reservations/{reservation['id']}/").status_code == 200
    with django_assert_num_queries(1):
        assert anon_client.get("/api/reservations/?status=active&reference=r-1").status_code == 200
    with django_assert_num_queries(1):
        assert anon_client.get(f"/api/products/{products[0]}/stock/").json()["reserved"] == 1
    with django_assert_num_queries(1):
        assert anon_client.get("/api/products/?location=main&low_stock=false&in_stock=true").status_code == 200


@pytest.mark.parametrize("suffix", ["", "commit/", "release/", "extend/"])
def test_an_id_that_is_not_a_uuid_is_a_404(client, suffix):
    body = {"expires_in": 60} if suffix == "extend/" else {}
    for reservation_id in ("0" * 36, uuid.uuid4()):
        url = f"/api/reservations/{reservation_id}/{suffix}"
        response = client.post(url, body, format="json") if suffix else client.get(url)
        assert response.status_code == 404, (url, response.content)
