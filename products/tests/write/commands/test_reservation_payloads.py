"""The place and commit statements write their events' payloads as the event log renders them in Python."""

import pytest

from cqrs_demo.bus import bus
from products import events
from products.write import commands
from products.write.event_log import payload_of
from products.write.models import EventRecord

pytestmark = pytest.mark.django_db


def test_placed_and_committed_payloads_are_what_the_event_log_renders(make_product):
    first, second = make_product(initial_stock=5), make_product(initial_stock=7)
    lines = (
        commands.ReservationLine(product_id=first, quantity=2),
        commands.ReservationLine(product_id=second, quantity=3),
    )
    reservation_id = bus.dispatch(commands.PlaceReservation(lines=lines, reference="order-9"))["id"]
    placed = EventRecord.objects.get(type="ReservationPlaced")
    assert placed.payload == payload_of(events.ReservationPlaced(reservation_id=reservation_id))
    assert len(placed.payload["holds"]) == 2

    bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    committed = EventRecord.objects.get(type="ReservationCommitted")
    assert committed.payload == payload_of(events.ReservationCommitted(reservation_id=reservation_id))
    assert (committed.payload["status"], committed.payload["holds"]) == ("committed", [])
    for product_id, delta in ((first, -2), (second, -3)):
        adjusted = EventRecord.objects.filter(type="StockAdjusted", product_id=product_id).get()
        state = payload_of(events.ProductCreated(product_id=product_id))
        assert adjusted.payload == {
            "product_id": str(product_id),
            "movement_id": state["movements"][-1]["id"],
            "location": "main",
            "delta": delta,
            "quantity": state["product"]["quantity"],
            "product": state["product"],
            "movement": state["movements"][-1],
        }
        assert (adjusted.payload["movement"]["reason"], adjusted.payload["movement"]["reference"]) == (
            "sale",
            "order-9",
        )
