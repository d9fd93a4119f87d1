"""Stock per location: AdjustStock and SetStock at a location, totals, refused locations."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from cqrs_demo.bus import bus
from products.errors import (
    InactiveLocationError,
    InsufficientStockError,
    ProductNotFoundError,
    StockLimitError,
    UnknownLocationError,
)
from products.read import queries, rebuild
from products.read.models import ProductView, StockLevelView
from products.tests.robustness.conftest import snapshot_tables
from products.write import commands
from products.write.models import MAX_QUANTITY, EventRecord, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(db):
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    return "east"


def levels(product_id):
    """Return {location code: quantity} of a product, from the write tables."""
    return dict(
        StockLevel.objects.filter(product_id=product_id).values_list("location__code", "quantity").order_by("location")
    )


def ledger(product_id):
    return list(
        StockMovement.objects.filter(product_id=product_id)
        .order_by("id")
        .values_list("location__code", "delta", "quantity_after")
    )


def test_adjust_and_set_at_a_second_location_keep_the_total_over_locations(make_product, east):
    product_id = make_product(initial_stock=10)
    answer = bus.dispatch(commands.AdjustStock(product_id=product_id, delta=4, location=east))
    assert (answer["quantity"], answer["in_stock"], answer["version"]) == (14, True, 2)
    answer = bus.dispatch(commands.SetStock(product_id=product_id, quantity=1, location=east))
    assert (answer["quantity"], answer["version"]) == (11, 3)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-10))  # at main
    assert levels(product_id) == {"east": 1, "main": 0}
    # quantity_after is the quantity at the movement's location.
    assert ledger(product_id) == [("main", 10, 10), ("east", 4, 4), ("east", -3, 1), ("main", -10, 0)]
    assert ProductView.objects.get(id=product_id).quantity == 1
    assert bus.ask(queries.GetStock(product_id=product_id))["locations"] == [
        {"location": "east", "quantity": 1, "reserved": 0, "available": 1},
        {"location": "main", "quantity": 0, "reserved": 0, "available": 0},
    ]
    event = EventRecord.objects.latest("id").payload
    assert (event["location"], event["quantity"], event["movement"]["location"]) == ("main", 1, "main")
    assert rebuild.differences() == []


def test_a_recount_at_a_location_never_held_records_the_whole_quantity_as_its_delta(make_product, east):
    product_id = make_product(initial_stock=3)
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=7, location=east))
    assert ledger(product_id)[-1] == ("east", 7, 7)
    assert levels(product_id) == {"east": 7, "main": 3}


def test_removing_more_than_a_location_holds_is_refused_though_others_hold_enough(make_product, east):
    product_id = make_product(initial_stock=50)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=2, location=east))
    before = (levels(product_id), ledger(product_id), Product.objects.get(id=product_id).version)
    with pytest.raises(InsufficientStockError, match="Only 2 available at east"):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-3, location=east))
    assert (levels(product_id), ledger(product_id), Product.objects.get(id=product_id).version) == before


def test_a_first_removal_at_a_location_is_refused_and_leaves_no_row_there(make_product, east):
    product_id = make_product(initial_stock=5)
    with pytest.raises(InsufficientStockError, match="Only 0 available at east"):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-1, location=east))
    assert levels(product_id) == {"main": 5}
    assert Product.objects.get(id=product_id).version == 1


def test_a_location_may_hold_up_to_the_limit_and_the_total_may_pass_it(make_product, east):
    product_id = make_product(initial_stock=MAX_QUANTITY)
    answer = bus.dispatch(commands.AdjustStock(product_id=product_id, delta=MAX_QUANTITY, location=east))
    assert answer["quantity"] == 2 * MAX_QUANTITY
    with pytest.raises(StockLimitError):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, location=east))
    bus.dispatch(commands.CreateLocation(code="west", name="West"))
    answer = bus.dispatch(commands.SetStock(product_id=product_id, quantity=MAX_QUANTITY, location="west"))
    assert answer["quantity"] == 3 * MAX_QUANTITY  # past 2^31: a bigint
    assert rebuild.differences() == []


@pytest.mark.parametrize("command", [commands.AdjustStock, commands.SetStock])
def test_an_unknown_or_inactive_location_is_refused_and_nothing_changes(make_product, east, command):
    product_id = make_product(initial_stock=5)
    bus.dispatch(commands.ChangeLocation(code=east, is_active=False))
    amount = {"delta": 1} if command is commands.AdjustStock else {"quantity": 1}
    before = snapshot_tables()
    with pytest.raises(UnknownLocationError):
        bus.dispatch(command(product_id=product_id, location="nowhere", **amount))
    with pytest.raises(InactiveLocationError, match="inactive location takes no new stock"):
        bus.dispatch(command(product_id=product_id, location=east, **amount))
    assert snapshot_tables() == before  # the version was not bumped either


def test_a_missing_product_is_not_found_whatever_the_location(east):
    with pytest.raises(ProductNotFoundError):
        bus.dispatch(commands.AdjustStock(product_id=uuid.uuid4(), delta=1, location="nowhere"))


def test_an_archived_product_leaves_every_read_row_of_its_stock(make_product, east):
    product_id = make_product(initial_stock=5)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, location=east))
    bus.dispatch(commands.ArchiveProduct(product_id=product_id))
    assert not StockLevelView.objects.filter(product_id=product_id).exists()
    assert rebuild.differences() == []


class Held(threading.Thread):
    """Run ``work`` in a transaction of its own connection, held open until released."""

    def __init__(self, work):
        super().__init__()
        self.work, self.result, self.error = work, None, None
        self.holding, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.result = self.work()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    (self.pid,) = cursor.fetchone()
                self.holding.set()
                self.release.wait()
        except Exception as error:
            self.error = error
            self.holding.set()
        finally:
            connection.close()

    def hold(self):
        self.start()
        self.holding.wait()
        assert self.error is None, self.error
        return self

    def end(self):
        self.release.set()
        self.join()
        assert self.error is None, self.error


class Waiting(threading.Thread):
    """Run ``work`` in autocommit on its own connection; report its backend pid first."""

    def __init__(self, work):
        super().__init__()
        self.work, self.result, self.error, self.pid = work, None, None, None
        self.started = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (self.pid,) = cursor.fetchone()
            self.started.set()
            self.result = self.work()
        except Exception as error:
            self.error = error
        finally:
            self.started.set()
            connection.close()


def _blocked_by(pid, blocker, timeout=10.0):
    """Wait until backend ``pid`` waits for backend ``blocker``; return whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
            if blocker in cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


def _product(sku, initial_stock=10):
    return bus.dispatch(commands.CreateProduct(sku=sku, name=sku, price=Decimal(1), initial_stock=initial_stock))["id"]


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_an_adjustment_waiting_for_a_deactivation_finds_the_location_inactive():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = _product("DEACT-1")
    deactivation = Held(lambda: bus.dispatch(commands.ChangeLocation(code="east", is_active=False))).hold()
    adjustment = Waiting(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5, location="east")))
    try:
        adjustment.start()
        adjustment.started.wait()
        assert _blocked_by(adjustment.pid, deactivation.pid)  # on the location's row
    finally:
        deactivation.end()
    adjustment.join()
    assert isinstance(adjustment.error, InactiveLocationError), adjustment.error
    assert levels(product_id) == {"main": 10}
    assert Product.objects.get(id=product_id).version == 1


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_deactivation_waits_for_an_adjustment_holding_the_location():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = _product("DEACT-2")
    adjustment = Held(
        lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5, location="east"))
    ).hold()
    deactivation = Waiting(lambda: bus.dispatch(commands.ChangeLocation(code="east", is_active=False)))
    try:
        deactivation.start()
        deactivation.started.wait()
        assert _blocked_by(deactivation.pid, adjustment.pid)
    finally:
        adjustment.end()
    deactivation.join()
    assert deactivation.error is None, deactivation.error
    assert levels(product_id) == {"east": 5, "main": 10}  # added while it was active
    with pytest.raises(InactiveLocationError):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, location="east"))


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_an_adjustment_that_waited_for_the_product_counts_what_the_other_location_committed_meanwhile():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = _product("TOTAL-1")
    first = Held(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5, location="east"))).hold()
    second = Waiting(lambda: bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-1)))
    try:
        second.start()
        second.started.wait()
        assert _blocked_by(second.pid, first.pid)  # on the product's lock
    finally:
        first.end()
    second.join()
    assert second.error is None, second.error
    # Its statement's snapshot predates east's first row; the total counts it anyway.
    assert second.result["quantity"] == 14
    assert EventRecord.objects.latest("id").payload["quantity"] == 14


def test_a_product_gets_no_opening_stock_at_an_inactive_main(db):
    bus.dispatch(commands.ChangeLocation(code="main", is_active=False))
    before = snapshot_tables()
    with pytest.raises(InactiveLocationError) as refused:
        bus.dispatch(commands.CreateProduct(sku="NEW-1", name="New", price=Decimal(1), initial_stock=3))
    assert refused.value.field == "initial_stock"
    assert snapshot_tables() == before
    product = bus.dispatch(commands.CreateProduct(sku="NEW-1", name="New", price=Decimal(1)))
    assert levels(product["id"]) == {"main": 0}
