"""Reservations holding stock at a location made inactive: a commit is refused and leaves the
reservation active and holding, an extension and a release still work, and a commit racing
with the deactivation comes either wholly before it (committed) or wholly after it (refused)."""

import uuid
from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.errors import InactiveLocationError
from products.read import queries, rebuild
from products.tests.write.commands.test_reservations import held_until, snapshot_tables, status
from products.tests.write.commands.test_stock_locations import Held, Waiting, _blocked_by
from products.write import commands
from products.write.models import Location, Reservation, StockLevel, StockMovement


def _reserve(*lines, reference=None):
    """Place a reservation of ``(product, quantity, location)`` lines; return its id."""
    command = commands.PlaceReservation(
        lines=tuple(commands.ReservationLine(*line) for line in lines), expires_in=900, reference=reference
    )
    return uuid.UUID(bus.dispatch(command)["id"])


def _stocked_at_east(sku, main, east):
    """Create a product holding ``main`` at main and ``east`` at east."""
    product_id = bus.dispatch(commands.CreateProduct(sku=sku, name=sku, price=Decimal(1), initial_stock=main))["id"]
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=east, location="east"))
    return uuid.UUID(product_id)


def _stock(product_id):
    answer = bus.ask(queries.GetStock(product_id=product_id))
    return answer["quantity"], answer["reserved"], answer["available"]


def _levels(product_id):
    return dict(StockLevel.objects.filter(product_id=product_id).values_list("location__code", "quantity"))


def _deactivate(active=False):
    return bus.dispatch(commands.ChangeLocation(code="east", is_active=active))


@pytest.mark.django_db
def test_a_commit_at_a_location_made_inactive_is_refused_and_the_reservation_keeps_holding():
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    product_id = _stocked_at_east("INACT-1", main=10, east=5)
    reservation_id = _reserve((product_id, 2, "main"), (product_id, 3, "east"), reference="paid")
    _deactivate()
    before = snapshot_tables()

    with pytest.raises(InactiveLocationError) as refused:
        bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))

    assert refused.value.field == "location"
    assert "east" in refused.value.message
    assert snapshot_tables() == before  # nothing written, no event
    assert status(reservation_id) == "active"
    assert _stock(product_id) == (15, 5, 10)
    assert _levels(product_id) == {"main": 10, "east": 5}

    # It can wait for the location (an extension) or give up (a release); no new hold is taken there.
    extended = bus.dispatch(commands.ExtendReservation(reservation_id=reservation_id, expires_in=3600))
    assert extended["status"] == "active"
    assert held_until(reservation_id) == {Reservation.objects.get(id=reservation_id).expires_at}
    assert _stock(product_id) == (15, 5, 10)
    with pytest.raises(InactiveLocationError):
        _reserve((product_id, 1, "east"))
    _deactivate(active=True)
    assert bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))["status"] == "committed"
    assert _levels(product_id) == {"main": 8, "east": 2}
    assert StockMovement.objects.filter(reason="sale", reference="paid").count() == 2
    assert rebuild.differences() == []


@pytest.mark.django_db
def test_a_reservation_at_a_location_made_inactive_can_be_released():
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    product_id = _stocked_at_east("INACT-2", main=0, east=5)
    reservation_id = _reserve((product_id, 4, "east"))
    _deactivate()
    assert bus.dispatch(commands.ReleaseReservation(reservation_id=reservation_id))["status"] == "released"
    assert _stock(product_id) == (5, 0, 5)
    assert not StockMovement.objects.filter(reason="sale").exists()
    assert rebuild.differences() == []


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_commit_waiting_for_a_deactivation_is_refused_and_leaves_the_reservation_holding():
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    product_id = _stocked_at_east("RACE-1", main=0, east=5)
    reservation_id = _reserve((product_id, 3, "east"))
    deactivation = Held(_deactivate).hold()
    commit = Waiting(lambda: bus.dispatch(commands.CommitReservation(reservation_id=reservation_id)))
    try:
        commit.start()
        commit.started.wait()
        assert _blocked_by(commit.pid, deactivation.pid)  # on the location's row
    finally:
        deactivation.end()
    commit.join()
    assert isinstance(commit.error, InactiveLocationError), commit.error
    assert status(reservation_id) == "active"
    assert held_until(reservation_id) == {Reservation.objects.get(id=reservation_id).expires_at}
    assert _levels(product_id) == {"main": 0, "east": 5}
    assert not StockMovement.objects.filter(reason="sale").exists()


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_deactivation_waits_for_a_commit_holding_the_location():
    bus.dispatch(commands.CreateLocation(code="east", name="East depot"))
    product_id = _stocked_at_east("RACE-2", main=0, east=5)
    reservation_id = _reserve((product_id, 3, "east"))
    commit = Held(lambda: bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))).hold()
    deactivation = Waiting(_deactivate)
    try:
        deactivation.start()
        deactivation.started.wait()
        assert _blocked_by(deactivation.pid, commit.pid)  # on the location's row
    finally:
        commit.end()
    deactivation.join()
    assert deactivation.error is None, deactivation.error
    assert commit.result["status"] == "committed"
    assert _levels(product_id) == {"main": 0, "east": 2}
    assert not Location.objects.get(code="east").is_active
