"""Split mode: the projector worker feeds a separate read database from the event log."""

import contextlib
import signal
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from cqrs_demo.bus import bus
from products.events import feed
from products.read import queries, rebuild, worker
from products.read.lag import PROJECTOR_POSITION
from products.read.models import (
    LocationView,
    ProductView,
    ProjectorPosition,
    StockLevelView,
    StockMovementView,
)
from products.tests.readapi.conftest import ReadApi, database_config
from products.write import commands
from products.write.models import EventRecord, Location, StockMovement

pytestmark = [
    pytest.mark.skipif(
        settings.CQRS_MODE != "split", reason="split mode only: `scripts/test` runs it in its split-mode pass"
    ),
    pytest.mark.manual_projection,
]


@contextlib.contextmanager
def _read_store_refusing_ledger_rows():
    """While the block runs, the read database refuses every ledger row (a trigger raises 'refused by the test')."""
    with connections["read"].cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            " LANGUAGE plpgsql;"
            " CREATE TRIGGER refuse BEFORE INSERT ON read_stock_movement FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    try:
        yield
    finally:
        with connections["read"].cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse ON read_stock_movement; DROP FUNCTION refuse()")


def _create_products(count, category="tools", prefix="W"):
    bus.dispatch(commands.CreateCategory(slug=category, name="Tools"))
    ids = [
        bus.dispatch(
            commands.CreateProduct(sku=f"{prefix}-{n}", name=f"{prefix} {n}", price=Decimal(1), category=category)
        )["id"]
        for n in range(count)
    ]
    for product_id in ids[::3]:
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5))
    return ids


def _position():
    return (
        ProjectorPosition.objects.filter(name=PROJECTOR_POSITION).values_list("highest_event_id", flat=True).first()
        or 0
    )


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_reads_lag_until_the_worker_applies_the_log():
    worker.run()  # what the log already holds (the migration's default location)
    product_id = bus.dispatch(commands.CreateProduct(sku="LAG-1", name="Lagging", price=Decimal("2.00")))["id"]
    assert not ProductView.objects.filter(id=product_id).exists()
    assert worker.lag()["events_behind"] == 1
    assert worker.lag()["bytes_behind"] > 0
    assert worker.run() == 1
    assert ProductView.objects.get(id=product_id).name == "Lagging"
    lag = worker.lag()
    assert {key: lag[key] for key in ("last_applied_event_id", "latest_event_id", "events_behind")} == {
        "last_applied_event_id": EventRecord.objects.latest("id").id,
        "latest_event_id": EventRecord.objects.latest("id").id,
        "events_behind": 0,
    }
    assert lag["seconds_behind"] == 0.0 and lag["slot"] == worker.slot()


# Every ledger row the worker inserts, logged by a trigger in the worker's own transaction (an
# insert that meets an existing row is logged too, so an event applied twice shows), and slowed
# so a kill lands inside a batch.
_LOG_APPLIED_SQL = """
    CREATE TABLE movement_applied (id bigint);
    CREATE OR REPLACE FUNCTION log_applied() RETURNS trigger AS $$
      BEGIN INSERT INTO movement_applied VALUES (NEW.id); PERFORM pg_sleep(%s); RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER log_applied BEFORE INSERT ON read_stock_movement FOR EACH ROW EXECUTE FUNCTION log_applied();
"""


@pytest.fixture
def applied_log():
    """Return a function that starts logging the ledger rows the worker applies; it returns the logged ids."""

    def start(sleep=0.0):
        with connections["read"].cursor() as cursor:
            cursor.execute(_LOG_APPLIED_SQL, [sleep])

    yield start
    with connections["read"].cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS movement_applied; DROP TRIGGER IF EXISTS log_applied ON read_stock_movement"
        )


def _each_movement_applied_once():
    with connections["read"].cursor() as cursor:
        cursor.execute("SELECT id FROM movement_applied ORDER BY id")
        logged = [row[0] for row in cursor.fetchall()]
    assert logged == sorted(StockMovement.objects.values_list("id", flat=True))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_worker_killed_again_and_again_mid_batch_resumes_without_skipping_or_repeating(manage, applied_log):
    worker.run()
    applied_log(sleep=0.02)
    _create_products(60)  # 80 ledger rows
    last_id = EventRecord.objects.latest("id").id
    for _ in range(3):
        before = _position()
        process = manage("project_events", "--follow", "--batch-size", "25")
        deadline = time.monotonic() + 60
        while _position() == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _position() > before, process.poll() is not None and process.stdout.read()
        time.sleep(0.2)  # inside the next batch of slow inserts
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert _position() < last_id
    finished = manage("project_events", "--batch-size", "25")  # without --follow: all committed so far, then exits
    assert finished.wait(timeout=120) == 0, finished.stdout.read()
    assert _position() == last_id
    _each_movement_applied_once()
    assert rebuild.differences() == []


def _wait_for_position(at_least, processes):
    deadline = time.monotonic() + 60
    while _position() < at_least and time.monotonic() < deadline:
        assert all(process.poll() is None for process in processes), [p.stdout.read() for p in processes]
        time.sleep(0.05)
    assert _position() >= at_least


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_second_worker_waits_for_the_feed_and_takes_over_when_the_first_dies(manage, applied_log):
    worker.run()
    applied_log()
    first = manage("project_events", "--follow", "--poll-interval", "0.1", "--batch-size", "25")
    _create_products(3, category="first", prefix="first")
    _wait_for_position(EventRecord.objects.latest("id").id, [first])  # the first holds the feed
    second = manage(
        "project_events", "--follow", "--poll-interval", "0.1", "--batch-size", "25", env={"LOG_LEVEL": "INFO"}
    )
    once = manage("project_events")  # without --follow: does not wait for the feed
    assert once.wait(timeout=60) == 0
    assert "Another worker holds the event feed" in once.stdout.read()
    _create_products(30, category="both", prefix="both")  # while both run: reads and advances of the one slot
    _wait_for_position(EventRecord.objects.latest("id").id, [first, second])
    time.sleep(1)  # both keep polling: neither fails on the other's use of the slot
    assert first.poll() is None and second.poll() is None
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    _create_products(30, category="second", prefix="second")
    _wait_for_position(EventRecord.objects.latest("id").id, [second])
    assert second.poll() is None
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0
    assert "another worker holds the feed" in second.stdout.read()
    _each_movement_applied_once()
    assert rebuild.differences() == []


def _slot_confirmed():
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = %s", [worker.slot()]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_worker_stopped_between_its_commit_and_the_slots_advance_applies_nothing_twice(monkeypatch, applied_log):
    worker.run()
    applied_log()
    _create_products(6)

    def stopped(slot, lsn):
        raise SystemExit("stopped after the commit, before the slot moved")

    with monkeypatch.context() as patch:
        patch.setattr(feed, "acknowledge", stopped)
        with pytest.raises(SystemExit):
            worker.run()
    confirmed = _slot_confirmed()
    assert worker.run() == 0  # the slot hands the same commits over again: skipped
    assert _slot_confirmed() > confirmed
    assert _position() == EventRecord.objects.latest("id").id
    _each_movement_applied_once()
    assert rebuild.differences() == []


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_event_log_alone_rebuilds_the_read_store():
    ids = _create_products(10)
    bus.dispatch(commands.RenameCategory(slug="tools", name="Hand tools"))
    bus.dispatch(commands.ArchiveProduct(product_id=ids[1]))
    bus.dispatch(commands.SetStock(product_id=ids[2], quantity=9))
    worker.run()
    assert rebuild.differences() == []
    with connections["read"].cursor() as cursor:
        cursor.execute("DELETE FROM read_product; DELETE FROM read_stock_movement; DELETE FROM read_category")
    assert rebuild.differences() != []
    replayed = worker.rebuild_from_log()
    assert replayed == EventRecord.objects.count()
    assert rebuild.differences() == []
    assert ProductView.objects.get(id=ids[0]).category_name == "Hand tools"


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_event_log_alone_rebuilds_reservations_holds_and_their_stock():
    ids = _create_products(4)
    for product_id in ids:
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=10))

    def place(*product_ids):
        lines = tuple(commands.ReservationLine(product_id=product_id, quantity=2) for product_id in product_ids)
        return bus.dispatch(commands.PlaceReservation(lines=lines, reference="log"))["id"]

    held, committed, released, extended = place(ids[0], ids[1]), place(ids[1]), place(ids[2]), place(ids[3])
    bus.dispatch(commands.CommitReservation(reservation_id=committed))
    bus.dispatch(commands.ReleaseReservation(reservation_id=released))
    bus.dispatch(commands.ExtendReservation(reservation_id=extended, expires_in=3600))
    bus.dispatch(commands.AdjustStockBatch(lines=(commands.BatchLine(product_id=ids[0], delta=-1),), reference="batch"))
    worker.run()
    assert rebuild.differences() == []
    with connections["read"].cursor() as cursor:
        cursor.execute("DELETE FROM read_reservation; DELETE FROM read_stock_hold; DELETE FROM read_product")
    worker.rebuild_from_log()
    assert rebuild.differences() == []
    assert bus.ask(queries.GetStock(product_id=ids[1]))["reserved"] == 2  # held; committed left the stock
    assert bus.ask(queries.GetReservation(reservation_id=held))["status"] == "active"


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_rebuild_from_write_tables_sets_the_position_so_the_worker_goes_on():
    _create_products(5)
    rebuild.rebuild_all()
    assert worker.lag()["events_behind"] == 0  # every event so far is in the rebuilt rows
    bus.dispatch(commands.CreateProduct(sku="AFTER", name="After the rebuild", price=Decimal("3.00")))
    assert worker.run() == 1  # only the new event; nothing applied twice
    assert rebuild.differences() == []


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_dropped_slot_is_not_ready_and_the_worker_goes_on_only_after_a_rebuild(client, capsys):
    _create_products(2)
    worker.run()
    call_command("drop_feed_slot")
    assert f"Dropped the replication slot {worker.slot()}" in capsys.readouterr().out
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["feed"] == "unavailable" and "project_events --follow" in ready.json()["detail"]
    read_api_ready = ReadApi(database_config()).get("/health/ready")
    assert (read_api_ready.status_code, read_api_ready.json()["detail"]) == (503, ready.json()["detail"])
    bus.dispatch(commands.CreateProduct(sku="LOST", name="Between the slots", price=Decimal("1.00")))
    # The worker makes a new slot, but its position is older than it: what fell between is lost to it.
    with pytest.raises(feed.FeedUnavailable, match="rebuild_read_models"):
        worker.run()
    assert client.get("/health/ready").status_code == 200  # the slot is there again
    rebuild.rebuild_all()
    bus.dispatch(commands.CreateProduct(sku="AFTER", name="After the rebuild", price=Decimal("1.00")))
    assert worker.run() == 1
    assert rebuild.differences() == []


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_ready_reports_the_projection_lag(client):
    bus.dispatch(commands.CreateProduct(sku="R-1", name="Ready", price=Decimal("1.00")))
    body = client.get("/health/ready").json()
    assert body["mode"] == "split"
    assert body["projection"]["events_behind"] == 1


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_read_api_reports_the_projection_lag_as_the_django_api_does(client):
    def projections():
        django = client.get("/health/ready").json()["projection"]
        read_api = ReadApi(database_config()).get("/health/ready")
        assert (read_api.status_code, read_api.json()["mode"]) == (200, "split")
        return [{**lag, "seconds_behind": lag["seconds_behind"] > 0} for lag in (django, read_api.json()["projection"])]

    worker.run()
    bus.dispatch(commands.CreateProduct(sku="R-1", name="Ready", price=Decimal("1.00")))
    django, read_api = projections()
    assert read_api == django
    assert (read_api["events_behind"], read_api["seconds_behind"], read_api["slot"]) == (1, True, worker.slot())
    worker.run()
    django, read_api = projections()
    assert read_api == django and (read_api["events_behind"], read_api["seconds_behind"]) == (0, False)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_location_events_reach_the_read_database_and_the_log_alone_rebuilds_them():
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    bus.dispatch(commands.ChangeLocation(code="east", is_active=False))
    assert not LocationView.objects.filter(code="east").exists()  # the read store lags
    worker.run()
    written = Location.objects.values("code", "name", "is_active", "created_at", "updated_at")
    read = LocationView.objects.values("code", "name", "is_active", "created_at", "updated_at")
    assert list(read.order_by("code")) == list(written.order_by("code"))
    assert read.get(code="east")["is_active"] is False
    with connections["read"].cursor() as cursor:
        cursor.execute("DELETE FROM read_location")
    worker.rebuild_from_log()
    assert list(read.order_by("code")) == list(written.order_by("code"))  # main's event is in the log too


@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("with_xact_id", [True, False])
def test_a_position_stored_before_the_feed_goes_on_from_it_without_replaying(with_xact_id):
    _create_products(3)
    worker.run()
    last = EventRecord.objects.latest("id")
    # As migration 0012 leaves a position the table-reading worker stored: (xact_id, id), and
    # migration 0004 one stored before that: the event id alone.
    ProjectorPosition.objects.filter(name=PROJECTOR_POSITION).update(
        snapshot="", caught_up=False, lsn=0, last_xact_id=last.xact_id if with_xact_id else 0, last_event_id=last.id
    )
    bus.dispatch(commands.CreateProduct(sku="NEXT", name="Next", price=Decimal("1.00")))
    assert worker.run() == 1
    assert worker.run() == 0
    assert _position() == EventRecord.objects.latest("id").id
    assert rebuild.differences() == []


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_stock_at_several_locations_reaches_the_read_database_and_the_log_alone_rebuilds_it():
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    ids = _create_products(3)  # the first has 5 at main
    bus.dispatch(commands.AdjustStock(product_id=ids[0], delta=4, location="east"))
    bus.dispatch(commands.SetStock(product_id=ids[1], quantity=2, location="east"))
    bus.dispatch(commands.UpdateProductDetails(product_id=ids[2], reorder_point=7))
    bus.dispatch(commands.ArchiveProduct(product_id=ids[1]))
    worker.run()
    assert rebuild.differences() == []
    levels = StockLevelView.objects.filter(product_id=ids[0]).order_by("location")
    assert list(levels.values_list("location", "quantity")) == [("east", 4), ("main", 5)]
    assert ProductView.objects.get(id=ids[0]).quantity == 9
    assert not StockLevelView.objects.filter(product_id=ids[1]).exists()
    assert ProductView.objects.get(id=ids[2]).reorder_point == 7
    with connections["read"].cursor() as cursor:
        cursor.execute("DELETE FROM read_stock_level; DELETE FROM read_product; DELETE FROM read_stock_movement")
    worker.rebuild_from_log()
    assert rebuild.differences() == []


@pytest.mark.events_before_the_contract
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_stock_event_logged_before_locations_applies_at_main():
    [product_id] = _create_products(1)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=3))
    payload = EventRecord.objects.latest("id").payload
    # As such an event was logged: no location, no reference, no reorder_point.
    del payload["location"], payload["movement"]["location"], payload["movement"]["reference"]
    del payload["product"]["reorder_point"]
    EventRecord.objects.filter(id=EventRecord.objects.latest("id").id).update(payload=payload)
    worker.run()
    assert rebuild.differences() == []
    assert StockMovementView.objects.filter(product_id=product_id).latest("id").location == "main"


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_statement_the_read_database_refuses_stops_a_following_worker_rather_than_retrying_it():
    # A lost connection is waited out (robustness/test_read_outage.py); a refused statement is
    # a fault that retrying cannot mend, so it stops the worker with its error.
    worker.run()
    with _read_store_refusing_ledger_rows():
        _create_products(1)
        before = _position()
        polls = iter(range(50))  # a worker that retried would stop after these, and raise nothing
        with pytest.raises(Exception, match="refused by the test"):
            worker.run(follow=True, poll_interval=0.01, should_stop=lambda: next(polls, None) is None)
        assert _position() == before


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_statements_sent_while_the_next_are_built_apply_in_order_and_a_refused_one_rolls_the_batch_back(monkeypatch):
    # Every statement is sent by the sending thread on its own, while the next ones are built.
    monkeypatch.setattr(worker.Statements, "SEND_BYTES", 1)
    worker.run()
    with _read_store_refusing_ledger_rows():
        ids = _create_products(6)
        bus.dispatch(commands.RenameCategory(slug="tools", name="Hand tools"))
        bus.dispatch(commands.UpdateProductDetails(product_id=ids[0], name="Renamed"))
        bus.dispatch(commands.ArchiveProduct(product_id=ids[1]))
        bus.dispatch(commands.SetStock(product_id=ids[2], quantity=9))
        before = _position()
        with pytest.raises(Exception, match="refused by the test"):
            worker.run()
        assert _position() == before
        assert not ProductView.objects.filter(id__in=ids).exists()  # the batch's earlier statements rolled back
    worker.run()
    assert rebuild.differences() == []
    assert ProductView.objects.get(id=ids[0]).name == "Renamed"
