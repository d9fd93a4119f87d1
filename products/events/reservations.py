"""Events of reservations: stock held during checkout, then committed, released, extended, or lapsed.

Each payload carries the reservation as the API shows it and its holds (``products.write.event_log``).
A commit also appends one ``StockAdjusted`` per line (the stock leaving, reason ``sale``).
"""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class ReservationPlaced(Event):
    reservation_id: UUID


@dataclass(frozen=True)
class ReservationCommitted(Event):
    reservation_id: UUID


@dataclass(frozen=True)
class ReservationReleased(Event):
    reservation_id: UUID


@dataclass(frozen=True)
class ReservationExtended(Event):
    """Its ``expires_at`` moved later (a payment that takes longer than planned)."""

    reservation_id: UUID


@dataclass(frozen=True)
class ReservationExpired(Event):
    """Its time was up: ``expire_reservations`` recorded what reads showed from ``expires_at`` on."""

    reservation_id: UUID
