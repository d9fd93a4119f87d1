"""Reservation commands through the bus: holds count until their expiry to the microsecond,
ExpireReservations records each lapse once, a commit writes sale ledger rows, every change
appends its event with the reservation and its holds, and the read side (the same
transaction's projector, or the worker in split mode) always equals a rebuild."""

import datetime
import uuid
from functools import partial

import pytest
from django.db import connection, connections

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.errors import (
    DuplicateLineError,
    InsufficientStockError,
    ReservationCommittedError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
    UnknownProductError,
)
from products.read import queries, rebuild
from products.tests.conftest import SPLIT
from products.tests.support import lapse
from products.write import commands
from products.write.models import EventRecord, Reservation, ReservationLine, StockLevel, StockMovement

pytestmark = pytest.mark.django_db

RESERVATION_EVENTS = (
    "ReservationPlaced",
    "ReservationCommitted",
    "ReservationReleased",
    "ReservationExtended",
    "ReservationExpired",
)


@pytest.fixture
def east(db):
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    return "east"


def place(*lines, expires_in=900, reference=None):
    """Place a reservation of ``lines`` ((product, quantity) or (product, quantity, location)); return its id."""
    command = commands.PlaceReservation(
        lines=tuple(commands.ReservationLine(*line) for line in lines), expires_in=expires_in, reference=reference
    )
    return uuid.UUID(bus.dispatch(command)["id"])


def snapshot_tables():
    """Return every row of every write and read table, of both databases in split mode."""
    snapshot = {}
    for alias in dict.fromkeys(["default", read_store_alias()]):
        with connections[alias].cursor() as cursor:
            names = connections[alias].introspection.table_names(cursor)
            for table in sorted(t for t in names if t.startswith(("products_", "read_"))):
                cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
                snapshot[alias, table] = cursor.fetchall()
    assert any(table == "read_stock_hold" for _alias, table in snapshot)
    return snapshot


def stock(product_id):
    answer = bus.ask(queries.GetStock(product_id=product_id))
    return answer["quantity"], answer["reserved"], answer["available"]


def events_of(reservation_id):
    """Return the reservation events of ``reservation_id``, oldest first."""
    return list(
        EventRecord.objects.filter(type__in=RESERVATION_EVENTS, payload__reservation_id=str(reservation_id)).order_by(
            "id"
        )
    )


def status(reservation_id):
    return Reservation.objects.get(id=reservation_id).status


def held_until(reservation_id):
    return set(ReservationLine.objects.filter(reservation_id=reservation_id).values_list("held_until", flat=True))


def test_placing_holds_the_lines_and_appends_reservation_placed(make_product, east):
    first, second = make_product(initial_stock=10), make_product(initial_stock=0)
    bus.dispatch(commands.AdjustStock(product_id=second, delta=4, location=east))
    reservation_id = place((first, 3), (second, 4, east), reference="cart-1")

    assert stock(first) == (10, 3, 7)
    assert stock(second) == (4, 4, 0)
    [event] = events_of(reservation_id)
    assert event.type == "ReservationPlaced"
    reservation = event.payload["reservation"]
    assert (reservation["id"], reservation["status"], reservation["reference"]) == (
        str(reservation_id),
        "active",
        "cart-1",
    )
    assert [(line["product"], line["location"], line["quantity"]) for line in reservation["lines"]] == [
        (str(first), "main", 3),
        (str(second), "east", 4),
    ]
    holds = sorted((hold["product_id"], hold["location"], hold["quantity"]) for hold in event.payload["holds"])
    assert holds == sorted([(str(first), "main", 3), (str(second), "east", 4)])
    assert {hold["expires_at"] for hold in event.payload["holds"]} == {reservation["expires_at"]}
    assert bus.ask(queries.GetReservation(reservation_id=reservation_id))["status"] == "active"
    assert rebuild.differences() == []


def test_a_refused_reservation_changes_nothing(make_product):
    product_id = make_product(initial_stock=5)
    place((product_id, 3))
    before = snapshot_tables()
    with pytest.raises(InsufficientStockError) as refused:
        place((product_id, 3))
    assert refused.value.details["lines"] == [
        {"product": str(product_id), "location": "main", "requested": 3, "available": 2}
    ]
    with pytest.raises(DuplicateLineError):
        place((product_id, 1), (product_id, 1))
    assert snapshot_tables() == before


def test_a_hold_counts_until_its_expiry_and_not_a_microsecond_after(make_product):
    product_id = make_product(initial_stock=10)
    reservation_id = place((product_id, 10))
    with connection.cursor() as cursor:
        # Until a moment a minute away: it still holds everything.
        cursor.execute(
            "UPDATE products_reservationline SET held_until = clock_timestamp() + interval '1 minute'"
            " WHERE reservation_id = %s",
            [reservation_id],
        )
    with pytest.raises(InsufficientStockError):
        place((product_id, 1))
    with pytest.raises(InsufficientStockError):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-1))
    with connection.cursor() as cursor:
        # Until the moment this statement ran: by the next statement, it holds nothing.
        cursor.execute(
            "UPDATE products_reservationline SET held_until = clock_timestamp() WHERE reservation_id = %s",
            [reservation_id],
        )
    place((product_id, 4))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-6))
    assert StockLevel.objects.get(product_id=product_id).quantity == 4


def test_an_expired_hold_stops_counting_without_any_job(make_product):
    product_id = make_product(initial_stock=10)
    reservation_id = place((product_id, 10))
    assert stock(product_id) == (10, 10, 0)
    lapse(reservation_id)
    assert stock(product_id) == (10, 0, 10)
    assert bus.ask(queries.GetReservation(reservation_id=reservation_id))["status"] == "expired"
    assert status(reservation_id) == "active"  # not recorded yet
    assert rebuild.differences() == []
    # The write side agrees: the whole stock can be held again, or taken out.
    again = place((product_id, 6))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-4))
    assert stock(product_id) == (6, 6, 0)
    assert status(again) == "active"
    assert rebuild.differences() == []


def test_expire_reservations_records_each_lapsed_one_once(make_product):
    product_id = make_product(initial_stock=10)
    older, newer, live = place((product_id, 1)), place((product_id, 2)), place((product_id, 3))
    lapse(older, ago=datetime.timedelta(hours=2))
    lapse(newer)

    assert bus.dispatch(commands.ExpireReservations()) == 2

    assert (status(older), status(newer), status(live)) == ("expired", "expired", "active")
    assert held_until(older) == held_until(newer) == {None}
    assert None not in held_until(live)
    assert [event.type for event in events_of(older)] == ["ReservationPlaced", "ReservationExpired"]
    assert [event.type for event in events_of(newer)] == ["ReservationPlaced", "ReservationExpired"]
    assert [event.type for event in events_of(live)] == ["ReservationPlaced"]
    expired = events_of(older)[-1].payload
    assert (expired["reservation"]["status"], expired["holds"]) == ("expired", [])
    assert stock(product_id) == (10, 3, 7)
    assert bus.ask(queries.GetReservation(reservation_id=older))["status"] == "expired"
    assert rebuild.differences() == []

    before = snapshot_tables()
    assert bus.dispatch(commands.ExpireReservations()) == 0
    assert snapshot_tables() == before


def test_expire_reservations_takes_the_oldest_first_up_to_its_limit(make_product):
    product_id = make_product(initial_stock=10)
    first, second = place((product_id, 1)), place((product_id, 1))
    lapse(second, ago=datetime.timedelta(hours=3))
    lapse(first, ago=datetime.timedelta(hours=2))
    assert bus.dispatch(commands.ExpireReservations(limit=1)) == 1
    assert (status(second), status(first)) == ("expired", "active")
    assert bus.dispatch(commands.ExpireReservations(limit=1)) == 1
    assert status(first) == "expired"
    assert rebuild.differences() == []


@pytest.mark.parametrize("recorded", [False, True], ids=["lapsed", "recorded-expired"])
def test_an_expired_reservation_cannot_be_extended_committed_or_released(make_product, recorded):
    product_id = make_product(initial_stock=10)
    reservation_id = place((product_id, 4))
    lapse(reservation_id)
    if recorded:
        bus.dispatch(commands.ExpireReservations())
    before = snapshot_tables()
    for command in (
        commands.ExtendReservation(reservation_id=reservation_id, expires_in=3600),
        commands.CommitReservation(reservation_id=reservation_id),
        commands.ReleaseReservation(reservation_id=reservation_id),
    ):
        with pytest.raises(ReservationExpiredError):
            bus.dispatch(command)
    assert snapshot_tables() == before
    assert stock(product_id) == (10, 0, 10)


def test_extend_moves_the_expiry_of_the_reservation_and_its_holds(make_product):
    product_id = make_product(initial_stock=10)
    reservation_id = place((product_id, 2), expires_in=60)
    before = Reservation.objects.get(id=reservation_id).expires_at

    answer = bus.dispatch(commands.ExtendReservation(reservation_id=reservation_id, expires_in=3600))

    after = Reservation.objects.get(id=reservation_id)
    assert after.expires_at - before > datetime.timedelta(minutes=58)
    assert (after.status, after.version) == ("active", 2)
    assert held_until(reservation_id) == {after.expires_at}
    [placed, extended] = events_of(reservation_id)
    assert extended.type == "ReservationExtended"
    assert extended.payload["reservation"]["expires_at"] == answer["expires_at"]
    assert {hold["expires_at"] for hold in extended.payload["holds"]} == {answer["expires_at"]}
    assert placed.payload["reservation"]["expires_at"] != answer["expires_at"]
    assert stock(product_id) == (10, 2, 8)
    assert rebuild.differences() == []


def test_commit_takes_the_held_stock_out_with_sale_ledger_rows(make_product, east, admin_user):
    first, second = make_product(initial_stock=10), make_product(initial_stock=0)
    bus.dispatch(commands.AdjustStock(product_id=second, delta=5, location=east))
    reservation_id = place((first, 3), (second, 5, east), reference="order-9")

    answer = bus.dispatch(commands.CommitReservation(reservation_id=reservation_id, actor_id=admin_user.id))

    assert answer["status"] == "committed"
    assert (status(reservation_id), held_until(reservation_id)) == ("committed", {None})
    sales = list(
        StockMovement.objects.filter(reason="sale")
        .order_by("id")
        .values_list("product_id", "location__code", "delta", "reason", "reference", "created_by_id")
    )
    assert sales == [
        (first, "main", -3, "sale", "order-9", admin_user.id),
        (second, "east", -5, "sale", "order-9", admin_user.id),
    ]
    assert stock(first) == (7, 0, 7)
    assert stock(second) == (0, 0, 0)
    [_placed, committed] = events_of(reservation_id)
    assert committed.type == "ReservationCommitted"
    assert (committed.payload["reservation"]["status"], committed.payload["holds"]) == ("committed", [])
    assert EventRecord.objects.filter(type="StockAdjusted", payload__movement__reason="sale").count() == 2
    assert rebuild.differences() == []

    with pytest.raises(ReservationCommittedError):
        bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    with pytest.raises(ReservationCommittedError):
        bus.dispatch(commands.ReleaseReservation(reservation_id=reservation_id))
    with pytest.raises(ReservationCommittedError):
        bus.dispatch(commands.ExtendReservation(reservation_id=reservation_id, expires_in=60))


def test_a_commit_of_one_product_at_two_locations_logs_each_line_with_the_state_it_left(make_product, east):
    product_id, other = make_product(initial_stock=4), make_product(initial_stock=5)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=3, location=east))
    version = bus.ask(queries.GetProduct(product_id=product_id))["version"]
    reservation_id = place((product_id, 4), (other, 2), (product_id, 3, east))

    bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))

    sales = EventRecord.objects.filter(type="StockAdjusted", payload__movement__reason="sale").order_by("id")
    logged = [
        (
            event.payload["product_id"] == str(product_id),
            event.payload["location"],
            event.payload["delta"],
            event.payload["quantity"],
            event.payload["product"]["quantity"],
            event.payload["product"]["version"],
            event.payload["movement"]["quantity_after"],
        )
        for event in sales
    ]
    # As two adjustments of a batch would: each line its own version and the total after it.
    assert logged == [
        (True, "main", -4, 3, 3, version + 1, 0),
        (False, "main", -2, 3, 3, 2, 3),
        (True, east, -3, 0, 0, version + 2, 0),
    ]
    product = bus.ask(queries.GetProduct(product_id=product_id))
    assert (product["quantity"], product["version"]) == (0, version + 2)
    assert rebuild.differences() == []


def test_release_gives_the_stock_back(make_product):
    product_id = make_product(initial_stock=10)
    reservation_id = place((product_id, 10))

    answer = bus.dispatch(commands.ReleaseReservation(reservation_id=reservation_id))

    assert answer["status"] == "released"
    assert (status(reservation_id), held_until(reservation_id)) == ("released", {None})
    assert stock(product_id) == (10, 0, 10)
    [_placed, released] = events_of(reservation_id)
    assert released.type == "ReservationReleased"
    assert (released.payload["reservation"]["status"], released.payload["holds"]) == ("released", [])
    assert StockMovement.objects.filter(product_id=product_id).count() == 1  # the initial stock only
    assert rebuild.differences() == []
    with pytest.raises(ReservationReleasedError):
        bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    with pytest.raises(ReservationReleasedError):
        bus.dispatch(commands.ExtendReservation(reservation_id=reservation_id, expires_in=60))


def test_an_unknown_reservation_is_not_found(db):
    unknown = uuid.uuid4()
    for command in (
        commands.CommitReservation(reservation_id=unknown),
        commands.ReleaseReservation(reservation_id=unknown),
        commands.ExtendReservation(reservation_id=unknown, expires_in=60),
    ):
        with pytest.raises(ReservationNotFoundError):
            bus.dispatch(command)


def test_every_change_appends_one_event_and_leaves_the_read_side_equal_to_a_rebuild(make_product):
    product_id = make_product(initial_stock=20)
    kept, given_up, paid, lapsed = (place((product_id, n), reference=f"r{n}") for n in (1, 2, 3, 4))
    assert rebuild.differences() == []
    steps = [
        commands.ExtendReservation(reservation_id=kept, expires_in=7200),
        commands.ReleaseReservation(reservation_id=given_up),
        commands.CommitReservation(reservation_id=paid),
    ]
    for command in steps:
        bus.dispatch(command)
        assert rebuild.differences() == []
    lapse(lapsed)
    assert rebuild.differences() == []
    bus.dispatch(commands.ExpireReservations())
    assert rebuild.differences() == []

    types = {
        reservation_id: [event.type for event in events_of(reservation_id)]
        for reservation_id in (kept, given_up, paid, lapsed)
    }
    assert types == {
        kept: ["ReservationPlaced", "ReservationExtended"],
        given_up: ["ReservationPlaced", "ReservationReleased"],
        paid: ["ReservationPlaced", "ReservationCommitted"],
        lapsed: ["ReservationPlaced", "ReservationExpired"],
    }
    for reservation_id in (kept, given_up, paid, lapsed):
        for event in events_of(reservation_id):
            assert {"reservation", "holds"} <= set(event.payload), event.type
            assert event.payload["reservation"]["id"] == str(reservation_id)
    assert stock(product_id) == (17, 1, 16)
    shown = {uuid.UUID(row["id"]): row["status"] for row in bus.ask(queries.ListReservations()).results}
    assert shown == {kept: "active", given_up: "released", paid: "committed", lapsed: "expired"}


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_in_split_mode_the_worker_applies_the_reservation_events(make_product):
    product_id = make_product(initial_stock=10)
    if SPLIT:
        from products.read import worker

        worker.run()
    reservation_id = place((product_id, 4))
    if SPLIT:
        # Nothing in the read store until the worker applies the log.
        with pytest.raises(ReservationNotFoundError):
            bus.ask(queries.GetReservation(reservation_id=reservation_id))
        assert stock(product_id) == (10, 0, 10)
        assert worker.run() == 1
    assert stock(product_id) == (10, 4, 6)
    bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    if SPLIT:
        assert stock(product_id) == (10, 4, 6)
        assert worker.run() == 2  # the StockAdjusted of the sale, then ReservationCommitted
    assert stock(product_id) == (6, 0, 6)
    assert bus.ask(queries.GetReservation(reservation_id=reservation_id))["status"] == "committed"
    assert rebuild.differences() == []


def test_an_import_cannot_set_the_stock_below_what_reservations_hold(make_product):
    product_id = make_product(sku="IMP-1", initial_stock=10)
    place((product_id, 8))
    try:
        result = bus.dispatch(commands.BulkImportProducts(rows=[(2, "IMP-1", "Imported", "", None, None, "1.00", 3)]))
    except InsufficientStockError:
        result = None  # refused as a whole: fine too
    quantity, reserved, available = stock(product_id)
    assert available >= 0, (quantity, reserved, available, result)
    assert rebuild.differences() == []


def test_a_reservation_of_a_product_since_archived_cannot_be_committed_but_can_be_released(make_product):
    kept, archived = make_product(initial_stock=5), make_product(initial_stock=5)
    reservation_id = place((kept, 2), (archived, 3))
    bus.dispatch(commands.ArchiveProduct(product_id=archived))
    before = snapshot_tables()
    with pytest.raises(UnknownProductError):
        bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    assert snapshot_tables() == before
    assert stock(kept) == (5, 2, 3)
    assert bus.dispatch(commands.ReleaseReservation(reservation_id=reservation_id))["status"] == "released"
    assert stock(kept) == (5, 0, 5)
    assert rebuild.differences() == []


@pytest.mark.parametrize(
    "command",
    [commands.ReleaseReservation, commands.CommitReservation, partial(commands.ExtendReservation, expires_in=60)],
    ids=["release", "commit", "extend"],
)
def test_a_lapsed_reservation_of_an_archived_product_is_refused_as_expired(make_product, command):
    product_id = make_product(initial_stock=5)
    reservation_id = place((product_id, 3))
    bus.dispatch(commands.ArchiveProduct(product_id=product_id))
    lapse(reservation_id)
    with pytest.raises(ReservationExpiredError):
        bus.dispatch(command(reservation_id=reservation_id))
