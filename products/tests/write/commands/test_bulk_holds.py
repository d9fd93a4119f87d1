"""A bulk import and reservations at the same location: neither slips past the other.

An import locks the locations it names FOR SHARE, as reservations and the stock commands
do, then the rows of the existing products it may write, in id order, before it reads what
reservations hold there; placing a reservation locks its products' rows too. So a
reservation or a stock change of one of those products waits for the import, and one of
any other product at those locations does not.
"""

from decimal import Decimal
from uuid import UUID

import pytest
from django.db import OperationalError, connection, transaction

from cqrs_demo.bus import bus
from products.errors import InsufficientStockError
from products.tests.write.commands.test_stock_locations import Held, Waiting, _blocked_by
from products.write import commands
from products.write.models import EventRecord, Product, StockLevel, StockMovement

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
        assert _blocked_by(importing.pid, reservation.pid)  # on the product's row
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
    assert waited  # on the product's row, locked by the import
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


def _without_waiting(work):
    """Run ``work`` in a transaction that may wait for no lock (lock_timeout): a wait raises."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1ms'")
        return work()


def test_an_import_that_sets_stock_holds_back_no_other_product_at_its_locations():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    imported = _existing("BESIDE-1", 10)
    other = _existing("BESIDE-2", 10)
    bus.dispatch(commands.SetStock(product_id=other, quantity=10, location="east"))
    rows = [
        (2, "BESIDE-1", "BESIDE-1", "", None, None, "1.00", 7, "main"),
        (3, "BESIDE-1", "BESIDE-1", "", None, None, "1.00", 4, "east"),
    ]
    importing = Held(lambda: bus.dispatch(commands.BulkImportProducts(rows=rows, columns=frozenset()))).hold()
    try:
        assert importing.error is None, importing.error
        assert _locked_by_others([UUID(str(imported))]) == 1
        # At both locations, while the import is open: other products' stock and reservations.
        for location in ("main", "east"):
            adjustment = commands.AdjustStock(product_id=other, delta=1, location=location)
            _without_waiting(lambda command=adjustment: bus.dispatch(command))
            line = commands.ReservationLine(product_id=other, quantity=2, location=location)
            reservation = commands.PlaceReservation(lines=(line,), expires_in=600)
            _without_waiting(lambda command=reservation: bus.dispatch(command))
        # The imported product's own wait.
        with pytest.raises(OperationalError, match="lock timeout"):
            _without_waiting(lambda: _reserve(imported, 1))
    finally:
        importing.end()
    assert importing.result.errors == []
    assert _main(imported) == 7
    assert StockLevel.objects.get(product_id=other, location__code="east").quantity == 11
    assert _main(other) == 11


def test_a_stock_change_that_waited_for_an_import_is_not_lost():
    product_id = _existing("BESIDE-3", 10)
    importing = Held(lambda: _import("BESIDE-3", 4)).hold()
    adjustment = Waiting(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1)))
    try:
        adjustment.start()
        adjustment.started.wait()
        assert _blocked_by(adjustment.pid, importing.pid)
    finally:
        importing.end()
    adjustment.join()
    assert adjustment.error is None, adjustment.error
    assert _main(product_id) == 5


def test_an_import_that_waited_for_a_stock_change_sets_the_stock_from_what_it_left():
    product_id = _existing("BESIDE-4", 10)
    adjustment = Held(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5))).hold()
    importing = Waiting(lambda: _import("BESIDE-4", 4))
    try:
        importing.start()
        importing.started.wait()
        assert _blocked_by(importing.pid, adjustment.pid)  # on the product's row
    finally:
        adjustment.end()
    importing.join()
    assert importing.error is None, importing.error
    assert _main(product_id) == 4
    # Its StockSet and ledger row count from the 15 the adjustment left, not the 10 before it.
    movement = StockMovement.objects.get(product_id=product_id, reason="import")
    assert (movement.delta, movement.quantity_after) == (-11, 4)
    event = EventRecord.objects.get(product_id=product_id, type="StockSet")
    assert event.payload["delta"] == -11, event.payload


def test_a_commit_locks_its_products_rows_in_id_order_before_it_writes_any():
    low, high = sorted(UUID(_existing(sku, 10)) for sku in ("COMMIT-1", "COMMIT-2"))
    lines = tuple(commands.ReservationLine(product_id=product_id, quantity=1) for product_id in (high, low))
    reservation = bus.dispatch(commands.PlaceReservation(lines=lines, expires_in=600))
    # As an import that sets both products' stock holds them: in id order, without their advisory locks.
    holder = Held(lambda: list(Product.objects.select_for_update(no_key=True).filter(id=low))).hold()
    commit = Waiting(lambda: bus.dispatch(commands.CommitReservation(reservation_id=reservation["id"])))
    try:
        commit.start()
        commit.started.wait()
        assert _blocked_by(commit.pid, holder.pid)
        # Waiting for the lowest id, it holds the other product's row not yet: no cycle with the holder.
        assert _locked_by_others([high]) == 0
    finally:
        holder.end()
    commit.join()
    assert commit.error is None, commit.error
    assert (_main(low), _main(high)) == (9, 9)
