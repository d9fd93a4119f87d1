"""manage.py expire_reservations: lapsed reservations are recorded as expired, with an event each."""

import io
import signal
import time

import pytest
from django.core.management import call_command

from cqrs_demo.bus import bus
from products.read import queries, rebuild
from products.tests.support import lapse
from products.write import commands
from products.write.models import EventRecord, Reservation, ReservationLine

pytestmark = pytest.mark.django_db


def place(product_id, quantity):
    line = commands.ReservationLine(product_id=product_id, quantity=quantity)
    return bus.dispatch(commands.PlaceReservation(lines=(line,)))["id"]


def test_expire_reservations_records_only_the_lapsed_ones(make_product):
    product_id = make_product(initial_stock=10)
    lapsed, running = place(product_id, 3), place(product_id, 2)
    lapse(lapsed)
    out = io.StringIO()
    call_command("expire_reservations", stdout=out)
    assert "Expired 1 reservations." in out.getvalue()
    assert Reservation.objects.get(id=lapsed).status == "expired"
    assert Reservation.objects.get(id=running).status == "active"
    assert not ReservationLine.objects.filter(reservation_id=lapsed, held_until__isnull=False).exists()
    assert list(
        EventRecord.objects.filter(type="ReservationExpired").values_list("payload__reservation_id", flat=True)
    ) == [lapsed]
    assert bus.ask(queries.GetStock(product_id=product_id))["available"] == 8
    call_command("expire_reservations", stdout=io.StringIO())  # again: nothing more to do
    assert EventRecord.objects.filter(type="ReservationExpired").count() == 1
    assert rebuild.differences() == []


@pytest.mark.django_db(transaction=True)
def test_follow_keeps_expiring_until_sigterm(make_product, manage):
    product_id = make_product(initial_stock=5)
    reservation_id = place(product_id, 1)
    lapse(reservation_id)
    process = manage("expire_reservations", "--follow", "--poll-interval", "0.1")
    try:
        deadline = time.monotonic() + 30
        while Reservation.objects.get(id=reservation_id).status != "expired" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Reservation.objects.get(id=reservation_id).status == "expired"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Expired 1 reservations." in output
