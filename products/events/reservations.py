"""Events of reservations: stock held during checkout, then committed, released, extended, or lapsed.

Each payload carries the reservation as the API shows it, its stored status, version and
update time (so a read store upserts it never backwards) and its holds (``RESERVATION_STATE``).
A commit also appends one ``StockAdjusted`` per line (the stock leaving, reason ``sale``).
"""

import datetime
from typing import Annotated
from uuid import UUID

from cqrs_demo.bus import Event
from products.events.schema import Hold, Reservation, ReservationStatus, event

RESERVATION_STATE = {
    "reservation": Reservation,
    "status": Annotated[ReservationStatus, "As stored."],
    "version": Annotated[int, "Grows with every change: a read store applies a reservation never backwards."],
    "updated_at": datetime.datetime,
    "holds": Annotated[list[Hold], "The lines that hold stock; empty once it ended."],
}


@event(version=2, carries=RESERVATION_STATE, key="reservation_id")
class ReservationPlaced(Event):
    """A reservation was placed: its lines hold stock until it expires."""

    reservation_id: UUID


@event(version=2, carries=RESERVATION_STATE, key="reservation_id")
class ReservationCommitted(Event):
    """A reservation was committed: its stock left as one ``StockAdjusted`` per line (reason ``sale``)."""

    reservation_id: UUID


@event(version=2, carries=RESERVATION_STATE, key="reservation_id")
class ReservationReleased(Event):
    """A reservation was released: its stock is available again."""

    reservation_id: UUID


@event(version=2, carries=RESERVATION_STATE, key="reservation_id")
class ReservationExtended(Event):
    """Its ``expires_at`` moved later (a payment that takes longer than planned)."""

    reservation_id: UUID


@event(version=2, carries=RESERVATION_STATE, key="reservation_id")
class ReservationExpired(Event):
    """Its time was up: ``expire_reservations`` recorded what reads showed from ``expires_at`` on."""

    reservation_id: UUID
