"""The write side's rules (``products.write.rules``), each tested by its intent through the commands."""

import contextlib
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from cqrs_demo.bus import bus
from products.errors import InactiveLocationError, InsufficientStockError
from products.tests.support import lapse
from products.tests.write.commands.test_reservations import snapshot_tables
from products.tests.write.commands.test_stock_locations import Held, Waiting, _blocked_by
from products.write import commands
from products.write.commands.common import product_lock
from products.write.models import EventRecord, StockLevel


def place(*lines):
    """Place a reservation of (product, quantity[, location]) lines; return its id."""
    command = commands.PlaceReservation(lines=tuple(commands.ReservationLine(*line) for line in lines))
    return uuid.UUID(bus.dispatch(command)["id"])


def quantity_at(product_id, code="main"):
    return StockLevel.objects.get(product_id=product_id, location__code=code).quantity


# -- Never below what is held -------------------------------------------------------------------


@pytest.mark.django_db
def test_no_writer_takes_the_stock_below_what_reservations_hold(make_product):
    product_id = make_product(initial_stock=10)
    place((product_id, 6))
    before = snapshot_tables()
    refused = [
        commands.AdjustStock(product_id=product_id, delta=-5),
        commands.SetStock(product_id=product_id, quantity=5),
        commands.AdjustStockBatch(lines=(commands.BatchLine(product_id=product_id, delta=-5),)),
        commands.AdjustStockBatch(lines=(commands.BatchLine(product_id=product_id, quantity=5),)),
        commands.PlaceReservation(lines=(commands.ReservationLine(product_id, 5),)),
    ]
    for command in refused:
        with pytest.raises(InsufficientStockError):
            bus.dispatch(command)
        assert snapshot_tables() == before, command
    # Down to exactly what is held is allowed.
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-4))
    assert quantity_at(product_id) == 6


@pytest.mark.django_db
def test_an_import_that_sets_the_stock_never_takes_it_below_what_is_held(make_product):
    product_id = make_product(sku="RULE-IMP", initial_stock=10)
    place((product_id, 8))
    row = (2, "RULE-IMP", "Imported", "", None, None, "1.00", 3)
    with contextlib.suppress(InsufficientStockError):  # refused as a whole, or that row refused
        bus.dispatch(commands.BulkImportProducts(rows=[row]))
    assert quantity_at(product_id) >= 8


@pytest.mark.django_db
def test_a_lapsed_hold_no_longer_keeps_the_stock(make_product):
    product_id = make_product(initial_stock=10)
    lapse(place((product_id, 10)))
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=0))
    assert quantity_at(product_id) == 0


# -- StockLow -------------------------------------------------------------------------------------


def stock_lows(product_id):
    return list(
        EventRecord.objects.filter(type="StockLow", product_id=product_id)
        .order_by("id")
        .values_list("payload__available", flat=True)
    )


@pytest.mark.django_db
def test_stock_low_fires_once_when_available_crosses_the_reorder_point_downwards(make_product):
    product_id = make_product(initial_stock=10, reorder_point=5)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-4))  # 6: above
    assert stock_lows(product_id) == []
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-1))  # 5: at it
    assert stock_lows(product_id) == [5]
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-2))  # 3: was low already
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1))  # up: never
    assert stock_lows(product_id) == [5]
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=20))
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=2))  # a recount that crosses it
    assert stock_lows(product_id) == [5, 2]


@pytest.mark.django_db
def test_stock_low_counts_what_is_held_and_follows_the_event_that_caused_it(make_product):
    product_id = make_product(initial_stock=10, reorder_point=5)
    place((product_id, 3))  # available 7: above
    assert stock_lows(product_id) == []
    reservation_id = place((product_id, 2))  # available 5
    assert stock_lows(product_id) == [5]
    low = EventRecord.objects.get(type="StockLow", product_id=product_id)
    placed = EventRecord.objects.get(type="ReservationPlaced", payload__reservation_id=str(reservation_id))
    assert low.id == placed.id + 1
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=10))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-10))  # available 15 -> 5
    adjusted, low = EventRecord.objects.order_by("-id")[:2][::-1]
    assert (adjusted.type, low.type, low.payload["available"]) == ("StockAdjusted", "StockLow", 5)


@pytest.mark.django_db
def test_a_batch_line_that_crosses_the_reorder_point_fires_stock_low_after_its_event(make_product):
    product_id = make_product(initial_stock=10, reorder_point=5)
    other = make_product(initial_stock=10, reorder_point=5)
    lines = (commands.BatchLine(product_id=product_id, delta=-6), commands.BatchLine(product_id=other, delta=-1))
    bus.dispatch(commands.AdjustStockBatch(lines=lines))
    assert (stock_lows(product_id), stock_lows(other)) == ([4], [])
    adjusted, low = EventRecord.objects.filter(product_id=product_id).order_by("-id")[:2][::-1]
    assert (adjusted.type, low.type) == ("StockAdjusted", "StockLow")


@pytest.mark.django_db
def test_a_transfer_never_fires_stock_low(make_product):
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = make_product(initial_stock=10, reorder_point=5)
    line = commands.TransferLine(product_id=product_id, quantity=10)
    bus.dispatch(commands.TransferStock(from_location="main", to_location="east", lines=(line,)))
    assert stock_lows(product_id) == []


# -- An inactive location takes no stock ------------------------------------------------------------


@pytest.mark.django_db
def test_an_inactive_location_takes_no_stock_from_any_command(make_product):
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = make_product(initial_stock=10)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5, location="east"))
    reservation_id = place((product_id, 1, "east"))
    bus.dispatch(commands.ChangeLocation(code="east", is_active=False))
    before = snapshot_tables()
    refused = [
        commands.AdjustStock(product_id=product_id, delta=1, location="east"),
        commands.AdjustStock(product_id=product_id, delta=-1, location="east"),
        commands.SetStock(product_id=product_id, quantity=3, location="east"),
        commands.AdjustStockBatch(lines=(commands.BatchLine(product_id=product_id, delta=1, location="east"),)),
        commands.TransferStock(
            from_location="main", to_location="east", lines=(commands.TransferLine(product_id=product_id, quantity=1),)
        ),
        commands.PlaceReservation(lines=(commands.ReservationLine(product_id, 1, "east"),)),
        commands.CommitReservation(reservation_id=reservation_id),
    ]
    for command in refused:
        with pytest.raises(InactiveLocationError):
            bus.dispatch(command)
        assert snapshot_tables() == before, command


# -- The lock order -------------------------------------------------------------------------------------


def _locks_of(pid):
    """Return the granted locks of backend ``pid``: its advisory keys, and whether it has a transaction id."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT locktype, (classid::bigint << 32 | objid::bigint) AS key FROM pg_locks
                WHERE pid = %s AND granted AND locktype IN ('advisory', 'transactionid')""",
            [pid],
        )
        rows = cursor.fetchall()
    keys = {key - (1 << 64) if key >= 1 << 63 else key for kind, key in rows if kind == "advisory"}
    return keys, any(kind == "transactionid" for kind, _key in rows)


def _advisory_lock(key):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_stock_command_takes_the_products_lock_before_anything_else():
    product_id = bus.dispatch(commands.CreateProduct(sku="LOCK-1", name="Lock", price=Decimal(1), initial_stock=5))[
        "id"
    ]
    holder = Held(lambda: _advisory_lock(product_lock(product_id))).hold()
    adjustment = Waiting(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1)))
    try:
        adjustment.start()
        adjustment.started.wait()
        assert _blocked_by(adjustment.pid, holder.pid)
        # Waiting for the product's lock it holds nothing and has no transaction id yet, so its
        # events cannot take a place in the log before the holder's commit.
        assert _locks_of(adjustment.pid) == (set(), False)
    finally:
        holder.end()
    adjustment.join()
    assert adjustment.error is None, adjustment.error


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_stock_command_takes_the_location_before_the_products_row():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = bus.dispatch(commands.CreateProduct(sku="LOCK-2", name="Lock", price=Decimal(1)))["id"]

    def hold_location():  # as a deactivation's UPDATE of the row does
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM products_location WHERE code = 'east' FOR NO KEY UPDATE")

    holder = Held(hold_location).hold()
    adjustment = Waiting(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, location="east")))
    try:
        adjustment.start()
        adjustment.started.wait()
        assert _blocked_by(adjustment.pid, holder.pid)
        # The product's row is free while it waits: a writer of the row does not wait for it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM products_product WHERE id = %s FOR UPDATE NOWAIT", [product_id])
            assert cursor.fetchall()
    finally:
        holder.end()
    adjustment.join()
    assert adjustment.error is None, adjustment.error


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_command_of_several_products_locks_them_in_ascending_key_order():
    ids = [
        bus.dispatch(commands.CreateProduct(sku=f"LOCK-{n}", name="Lock", price=Decimal(1), initial_stock=5))["id"]
        for n in (3, 4)
    ]
    low, high = sorted(ids, key=product_lock)
    holder = Held(lambda: _advisory_lock(product_lock(high))).hold()
    # The lines name the higher key first: the order of the lines does not matter.
    reservation = Waiting(lambda: place((high, 1), (low, 1)))
    try:
        reservation.start()
        reservation.started.wait()
        assert _blocked_by(reservation.pid, holder.pid)
        assert _locks_of(reservation.pid) == ({product_lock(low)}, False)
    finally:
        holder.end()
    reservation.join()
    assert reservation.error is None, reservation.error
