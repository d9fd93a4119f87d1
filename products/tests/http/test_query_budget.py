"""An anonymous read costs one SQL query, whatever the page or filter; a stock write, one after the token."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
        "/api/products/?location=main&low_stock=false&page_size=5",
        "/api/products/?low_stock=true&ordering=-quantity",
        "/api/products/{id}/stock/",
        "/api/products/{id}/stock/movements/",
        "/api/products/{id}/stock/movements/?page_size=2",
        "/api/categories/",
        "/api/locations/",
        "/api/locations/?page_size=1",
        "/api/locations/main/",
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


@pytest.mark.manual_projection  # in split mode, count the command's queries only
@pytest.mark.django_db(transaction=True)
def test_a_stock_adjustment_is_one_statement_after_the_token_lookup(client, make_product):
    # transaction=True: autocommit as in production, so no savepoint of a test transaction counts.
    product_id = make_product(initial_stock=5)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/products/{product_id}/stock/", {"delta": -2}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 3
    token, statement = (query["sql"] for query in queries.captured_queries)
    assert "authtoken_token" in token
    # Lock, bump, change, ledger row, event, projection and answer: one round trip, no BEGIN.
    steps = [
        "pg_advisory_xact_lock",
        "FOR SHARE OF l",  # the location's row
        "INSERT INTO products_stocklevel",
        "INSERT INTO products_stockmovement",
        "products_event",
    ]
    if settings.CQRS_MODE == "single":  # in split mode the worker projects it
        steps += ["INSERT INTO read_product", "INSERT INTO read_stock_level", "INSERT INTO read_stock_movement"]
    assert [step for step in steps if step not in statement] == []


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_recount_is_two_statements_in_a_transaction_after_the_token_lookup(client, make_product):
    product_id = make_product(initial_stock=5)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/products/{product_id}/stock/", {"quantity": 9}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["quantity"] == 9
    _token, begin, lock_and_bump, statement, commit = (query["sql"].strip() for query in queries.captured_queries)
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "pg_advisory_xact_lock" in lock_and_bump and "INSERT INTO products_event" in statement


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_reservation_is_placed_and_committed_in_two_statements_each_after_the_token_lookup(client, make_product):
    products = [str(make_product(initial_stock=5)) for _ in range(3)]
    lines = [{"product": product, "quantity": 1} for product in products]
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/reservations/", {"lines": lines}, format="json")
    assert response.status_code == 201, response.content
    _token, begin, locks, statement, commit = (query["sql"].strip() for query in queries.captured_queries)
    assert (begin, commit) == ("BEGIN", "COMMIT")
    assert "pg_advisory_xact_lock" in locks and "INSERT INTO products_reservation " in statement
    assert "INSERT INTO products_event" in statement
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/reservations/{response.json()['id']}/commit/")
    assert response.status_code == 200, response.content
    _token, begin, locks, statement, commit = (query["sql"].strip() for query in queries.captured_queries)
    assert "pg_advisory_xact_lock" in locks and "INSERT INTO products_stockmovement" in statement


def _statements(client, path, body):
    """Return the SQL statements a POST runs after the token lookup."""
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, body, format="json")
    assert response.status_code == 200, response.content
    _token, *statements = (query["sql"].strip() for query in queries.captured_queries)
    return statements


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_batch_and_a_transfer_run_as_many_statements_for_40_lines_as_for_2(client, make_product):
    client.post("/api/locations/", {"code": "east", "name": "East"}, format="json")
    products = [str(make_product(initial_stock=50)) for _ in range(20)]

    def batch(lines):  # a delta at main and a recount at east for each product
        body = [{"product": p, "delta": -1} for p in products[: lines // 2]]
        body += [{"product": p, "quantity": 3, "location": "east"} for p in products[: lines // 2]]
        return _statements(client, "/api/stock/adjustments/", {"lines": body, "reference": "B"})

    def transfer(lines):
        body = [{"product": p, "quantity": 1} for p in products[:lines]]
        return _statements(client, "/api/stock/transfers/", {"from": "main", "to": "east", "lines": body})

    for run in (batch, transfer):
        small, large = run(2), run(40 if run is batch else 20)
        assert len(large) == len(small), (run.__name__, len(small), len(large))
        # The locks (products in key order, then the locations), then one statement that checks
        # every line and writes them all (and, for a transfer, its StockTransferred).
        assert (large[0], large[-1]) == ("BEGIN", "COMMIT")
        assert len(large) <= 5, large
