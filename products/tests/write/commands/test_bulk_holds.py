"""A bulk import and reservations at the same location: neither slips past the other.

An import that sets the stock of existing products locks the locations it names FOR UPDATE
before it reads what reservations hold there; reservations lock them FOR SHARE. The rows of
the products it changes it locks in id order, as the stock commands do.
"""

from decimal import Decimal

import pytest
from django.db import connection

from cqrs_demo.bus import bus
from products.errors import InsufficientStockError
from products.tests.write.commands.test_stock_locations import Held, Waiting, _blocked_by
from products.write import commands
from products.write.models import Product, StockLevel

pytestmark = [pytest.mark.manual_projection, pytest.mark.django_db(transaction=True)]


def _existing(sku, quantity):
    return bus.dispatch(commands.CreateProduct(sku=sku, name=sku, price=Decimal(1), initial_stock=quantity))["id"]


def _import(sku, quantity):
    row = (2, sku, sku, "", None, None, "1.00", quantity, "main")
    return bus.dispatch(commands.BulkImportProducts(rows=[row], columns=frozenset()))


def _reserve(product_id, quantity):
    line = commands.ReservationLine(product_id=product_id, quantity=quantity)
    return bus.dispatch(commands.PlaceReservation(lines=(line,), expires_in=600))


def _main(product_id):
    return StockLevel.objects.get(product_id=product_id, location__code="main").quantity


def test_an_import_that_waited_for_a_reservation_counts_its_hold():
    product_id = _existing("HOLD-1", 10)
    reservation = Held(lambda: _reserve(product_id, 5)).hold()
    importing = Waiting(lambda: _import("HOLD-1", 3))
    try:
        importing.start()
        importing.started.wait()
        assert _blocked_by(importing.pid, reservation.pid)  # on main's row
    finally:
        reservation.end()
    importing.join()
    assert importing.error is None, importing.error
    [(line, error)] = importing.result.errors
    assert (line, type(error)) == (2, InsufficientStockError)
    assert _main(product_id) == 10


def _reserve_while_importing(sku):
    """Place a reservation of 5 while an import that sets the stock to 4 holds main; return both."""
    product_id = _existing(sku, 10)
    importing = Held(lambda: _import(sku, 4)).hold()
    reservation = Waiting(lambda: _reserve(product_id, 5))
    try:
        reservation.start()
        reservation.started.wait()
        waited = _blocked_by(reservation.pid, importing.pid)
    finally:
        importing.end()
    reservation.join()
    return product_id, reservation, waited


def test_a_reservation_waits_for_an_import_that_sets_stock_there():
    product_id, _, waited = _reserve_while_importing("HOLD-2")
    assert waited  # on main's row, locked FOR UPDATE by the import
    assert _main(product_id) == 4


def test_a_reservation_that_waited_for_an_import_sees_its_count():
    _, reservation, _ = _reserve_while_importing("HOLD-3")
    assert isinstance(reservation.error, InsufficientStockError)  # 4 in stock: 5 cannot be held


def _locked_by_others(ids):
    """Return how many of the products ``ids`` some other transaction holds locked."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT id FROM products_product WHERE id = ANY(%s) FOR NO KEY UPDATE SKIP LOCKED) f",
            [list(ids)],
        )
        return len(ids) - cursor.fetchone()[0]


def test_an_import_locks_the_products_it_changes_in_id_order():
    # New products get ids in line order: the first line's is the lowest, its SKU the last in SKU order.
    rows = [(line, f"ORDER-{30 - line:02d}", "Before", "", None, None, "1.00", None, "main") for line in range(2, 22)]
    bus.dispatch(commands.BulkImportProducts(rows=rows, columns=frozenset()))
    ids = sorted(Product.objects.filter(sku__startswith="ORDER-").values_list("id", flat=True))
    lowest = Product.objects.get(id=ids[0])
    assert lowest.sku == "ORDER-28"
    # Its row then comes last in the table's order too.
    bus.dispatch(commands.UpdateProductDetails(product_id=lowest.id, name="Moved", price=Decimal(1)))
    batch = Held(lambda: list(Product.objects.select_for_update(no_key=True).filter(id=ids[0]))).hold()
    importing = Waiting(
        lambda: bus.dispatch(commands.BulkImportProducts(rows=[(*row[:2], "After", *row[3:]) for row in rows]))
    )
    try:
        importing.start()
        importing.started.wait()
        assert _blocked_by(importing.pid, batch.pid)
        # Waiting for the lowest id, it holds none of the others yet: a batch that locks them in
        # id order after that one can take them.
        assert _locked_by_others(ids[1:]) == 0
    finally:
        batch.end()
    importing.join()
    assert importing.error is None, importing.error
    assert importing.result.updated == 20
    assert set(Product.objects.filter(id__in=ids).values_list("name", flat=True)) == {"After"}
