"""GetStock and ListStockMovements, one SQL query each."""

import uuid

import pytest

from cqrs_demo.bus import bus
from products.errors import InvalidCursorError, ProductNotFoundError
from products.read import queries
from products.tests.support import retargeted
from products.write import commands

pytestmark = pytest.mark.django_db


def test_get_stock_returns_sku_quantity_in_stock_and_version(make_product, django_assert_num_queries):
    product_id = make_product(sku="HT-001", initial_stock=3)
    with django_assert_num_queries(1):
        assert bus.ask(queries.GetStock(product_id=product_id)) == {
            "sku": "HT-001",
            "quantity": 3,
            "reserved": 0,
            "available": 3,
            "in_stock": True,
            "version": 1,
            "locations": [{"location": "main", "quantity": 3, "reserved": 0, "available": 3}],
        }
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-3))
    assert bus.ask(queries.GetStock(product_id=product_id)) == {
        "sku": "HT-001",
        "quantity": 0,
        "reserved": 0,
        "available": 0,
        "in_stock": False,
        "version": 2,
        "locations": [{"location": "main", "quantity": 0, "reserved": 0, "available": 0}],
    }


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_get_stock_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    with pytest.raises(ProductNotFoundError):
        bus.ask(queries.GetStock(product_id=archived_product if known else uuid.uuid4()))


def test_movements_are_listed_newest_first_in_one_query(make_product, django_assert_num_queries):
    product_id = make_product(initial_stock=5)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-2, reason="sale"))
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=10, reason="recount"))
    with django_assert_num_queries(1):
        page = bus.ask(queries.ListStockMovements(product_id=product_id))
    assert [(row["delta"], row["quantity_after"], row["reason"]) for row in page.results] == [
        (7, 10, "recount"),
        (-2, 3, "sale"),
        (5, 5, "initial stock"),
    ]
    assert set(page.results[0]) == {"location", "delta", "quantity_after", "reason", "reference", "created_at"}
    assert (page.results[0]["location"], page.results[0]["reference"]) == ("main", None)
    assert (page.next_cursor, page.previous_cursor) == (None, None)


def test_movements_of_one_product_exclude_other_products(make_product):
    product_id = make_product(initial_stock=1)
    other = make_product(initial_stock=2)
    bus.dispatch(commands.AdjustStock(product_id=other, delta=5))
    assert [row["delta"] for row in bus.ask(queries.ListStockMovements(product_id=product_id)).results] == [1]


def test_movement_pages_walk_the_whole_ledger_forward_and_back(make_product, django_assert_num_queries):
    product_id = make_product(initial_stock=0)
    for delta in range(1, 12):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=delta))
    pages, cursor = [], None
    while True:
        with django_assert_num_queries(1):
            page = bus.ask(queries.ListStockMovements(product_id=product_id, page_size=5, cursor=cursor))
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [[row["delta"] for row in page.results] for page in pages] == [[11, 10, 9, 8, 7], [6, 5, 4, 3, 2], [1, 0]]
    back = bus.ask(queries.ListStockMovements(product_id=product_id, page_size=5, cursor=pages[-1].previous_cursor))
    assert back.results == pages[1].results


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_movements_of_an_archived_or_unknown_product_are_not_found(known, archived_product):
    with pytest.raises(ProductNotFoundError):
        bus.ask(queries.ListStockMovements(product_id=archived_product if known else uuid.uuid4()))


def test_a_movement_cursor_must_hold_a_ledger_id(make_product):
    product_id = make_product()
    with pytest.raises(InvalidCursorError):
        bus.ask(queries.ListStockMovements(product_id=product_id, cursor="nonsense"))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1))
    real = bus.ask(queries.ListStockMovements(product_id=product_id, page_size=1)).next_cursor
    assert len(bus.ask(queries.ListStockMovements(product_id=product_id, cursor=real)).results) == 1
    for row_id in ("not-a-number", 2**70, None, 1.5):
        with pytest.raises(InvalidCursorError):
            cursor = retargeted(real, 1, row_id)
            bus.ask(queries.ListStockMovements(product_id=product_id, cursor=cursor))
