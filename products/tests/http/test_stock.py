"""GET and POST /api/products/{id}/stock/ and GET .../stock/movements/."""

import uuid

import pytest

from products.write.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(make_product):
    return str(make_product(sku="HT-001", initial_stock=10))


def stock_url(product_id):
    return f"/api/products/{product_id}/stock/"


def ledger(product_id):
    return list(StockMovement.objects.filter(product_id=product_id).order_by("id").values_list("delta", flat=True))


def test_get_stock_answers_sku_quantity_in_stock_and_version_with_an_etag(anon_client, product):
    response = anon_client.get(stock_url(product))
    assert response.status_code == 200
    assert response.json() == {
        "sku": "HT-001",
        "quantity": 10,
        "reserved": 0,
        "available": 10,
        "in_stock": True,
        "version": 1,
        "locations": [{"location": "main", "quantity": 10, "reserved": 0, "available": 10}],
    }
    assert response["ETag"] == '"1"'


def test_a_delta_changes_the_stock_and_answers_the_product(client, product, admin_user):
    response = client.post(stock_url(product), {"delta": -3, "reason": "sale"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["quantity"], body["in_stock"], body["version"]) == (product, 7, True, 2)
    assert response["ETag"] == '"2"'
    movement = StockMovement.objects.filter(product_id=product).latest("id")
    assert (movement.delta, movement.quantity_after, movement.reason) == (-3, 7, "sale")
    assert movement.created_by == admin_user


def test_a_quantity_is_a_recount_recorded_as_the_delta_it_implies(client, product):
    response = client.post(stock_url(product), {"quantity": 4, "reason": "recount"})
    assert response.status_code == 200
    assert response.json()["quantity"] == 4
    movements = client.get(f"{stock_url(product)}movements/").json()["results"]
    assert [(row["delta"], row["quantity_after"], row["reason"]) for row in movements] == [
        (-6, 4, "recount"),
        (10, 10, "initial stock"),
    ]


def test_selling_more_than_the_stock_is_a_409_that_changes_nothing(client, product):
    response = client.post(stock_url(product), {"delta": -11})
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert "detail" in response.json()
    assert client.get(stock_url(product)).json() == {
        "sku": "HT-001",
        "quantity": 10,
        "reserved": 0,
        "available": 10,
        "in_stock": True,
        "version": 1,
        "locations": [{"location": "main", "quantity": 10, "reserved": 0, "available": 10}],
    }
    assert ledger(product) == [10]


def test_a_result_above_one_billion_is_a_400_that_changes_nothing(client, product):
    response = client.post(stock_url(product), {"delta": 1_000_000_000})
    assert response.status_code == 400
    assert client.get(stock_url(product)).json()["quantity"] == 10
    assert ledger(product) == [10]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": "nothing"},
        {"delta": 1, "quantity": 1},
        {"delta": 0},
        {"delta": 1_000_000_001},
        {"delta": -1_000_000_001},
        {"delta": 1.5},
        {"delta": "many"},
        {"quantity": -1},
        {"quantity": 1_000_000_001},
        {"delta": 1, "reason": "r" * 201},
        {"delta": 1, "sku": "X"},
        {"delta": 1, "colour": "red"},
    ],
)
def test_an_invalid_stock_change_is_a_400_that_changes_nothing(client, product, body):
    response = client.post(stock_url(product), body)
    assert response.status_code == 400, response.content
    assert StockLevel.objects.get(product_id=product).quantity == 10
    assert ledger(product) == [10]


def test_the_largest_changes_are_accepted(client, make_product):
    product_id = make_product(initial_stock=0)
    assert client.post(stock_url(product_id), {"quantity": 1_000_000_000}).json()["quantity"] == 1_000_000_000
    assert client.post(stock_url(product_id), {"delta": -1_000_000_000}).json()["quantity"] == 0


@pytest.mark.parametrize("body", [{"delta": 1}, {"quantity": 3}])
def test_a_stale_if_match_on_a_stock_change_is_a_412_that_changes_nothing(client, product, body):
    client.post(stock_url(product), {"delta": 1})
    response = client.post(stock_url(product), body, HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert response.json()["code"] == "version_mismatch"
    assert client.get(stock_url(product)).json()["quantity"] == 11
    assert ledger(product) == [10, 1]


def test_a_matching_if_match_on_a_stock_change_applies(client, product):
    etag = client.get(stock_url(product))["ETag"]
    response = client.post(stock_url(product), {"delta": 2}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["quantity"] == 12


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_stock_of_an_unknown_product_is_a_json_404(client, method):
    response = getattr(client, method)(stock_url(uuid.uuid4()), {"delta": 1} if method == "post" else None)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_stock_of_an_archived_product_is_not_found_and_cannot_change(client, archived_product):
    assert client.get(stock_url(archived_product)).status_code == 404
    assert client.post(stock_url(archived_product), {"delta": 1}).status_code == 404
    assert client.get(f"{stock_url(archived_product)}movements/").status_code == 404
    assert ledger(archived_product) == [5, -2]


def test_movements_are_newest_first_and_their_deltas_add_up_to_the_quantity(client, product):
    for body in ({"delta": 5}, {"delta": -8}, {"quantity": 20}, {"delta": -1}):
        assert client.post(stock_url(product), body).status_code == 200
    response = client.get(f"{stock_url(product)}movements/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert set(rows[0]) == {"location", "delta", "quantity_after", "reason", "reference", "created_at"}
    assert [row["quantity_after"] for row in rows] == [19, 20, 7, 15, 10]
    assert sum(row["delta"] for row in rows) == client.get(stock_url(product)).json()["quantity"] == 19


def test_movements_page_with_absolute_links(anon_client, client, product):
    for _ in range(4):
        client.post(stock_url(product), {"delta": 1})
    first = anon_client.get(f"{stock_url(product)}movements/?page_size=2").json()
    assert first["previous"] is None
    assert first["next"].startswith(f"http://testserver{stock_url(product)}movements/?")
    second = anon_client.get(first["next"]).json()
    third = anon_client.get(second["next"]).json()
    assert [row["quantity_after"] for row in first["results"] + second["results"] + third["results"]] == [
        14,
        13,
        12,
        11,
        10,
    ]
    assert third["next"] is None
    assert anon_client.get(third["previous"]).json()["results"] == second["results"]


@pytest.mark.parametrize("query", ["page_size=0", "cursor=garbage"])
def test_invalid_movement_parameters_are_a_400(anon_client, product, query):
    assert anon_client.get(f"{stock_url(product)}movements/?{query}").status_code == 400
