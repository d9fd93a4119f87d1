"""Commands of reservations: hold stock during checkout, then commit, release or extend the hold; expire lapsed ones.

What a (product, location) has available is its quantity less what the lines of active
reservations hold there until a moment still to come (``ReservationLine.held_until``), so a
hold stops counting at its expiry with no job running; ``ExpireReservations`` only records
the lapse (status ``expired``, an event) and tidies the lines.

The rules hold under any concurrency by construction:

- every command that can take available stock (placing, extending; the stock commands'
  removals, see ``products.write.commands.stock``) holds the locks of the products it
  touches, taken in one global order (sorted keys), then its locations (FOR SHARE, in code
  order), in statements of their own, so two reservations naming the same products in
  opposite orders never deadlock; placing or committing one takes its products' rows after
  them (in id order), which a bulk import that sets their stock holds until it commits;
- the statement after the locks reads with a fresh snapshot, so it sees every earlier
  holder's writes, and compares expiries with the clock as it is then
  (``clock_timestamp()``), never with the moment the transaction began: a hold that one
  command counted as lapsed can never be extended or committed afterwards;
- a reservation's row lock (its UPDATE ... WHERE status = 'active') lets exactly one of a
  commit, a release, an extension or the expiry end or change it;
- a commit sells nothing at an inactive location: it refuses the whole reservation, which
  stays active and holding (it can be extended until the location is active again, or
  released). Its locations' FOR SHARE locks order it with a deactivation (an UPDATE of the
  location's row): the deactivation waits for the commit, or the commit waits for it and its
  statement, with a fresh snapshot, sees the location inactive.

Placing and committing, the checkout's path, are one statement each after the locks
(``products.write.commands.reservation_sql``); the others are fixed statements in
``products/write/sql/`` and publish their event from Python. The rules they share with the
stock commands (what is held, the lock order, active locations) are ``products.write.rules``'.
"""

import uuid
from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone

from cqrs_demo.bus import Command, events_in_sql
from products import events
from products.errors import (
    InactiveLocationError,
    InsufficientStockError,
    ReservationCommittedError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
    UnknownProductError,
)
from products.read.tables import shown_reservation
from products.sql import fetch_dicts
from products.write import event_log, sql
from products.write.commands import reservation_sql
from products.write.commands.common import (
    check_distinct_lines,
    lock_products,
    lock_products_of,
    raise_unknown_lines,
    single_database,
    stock_lines_params,
)
from products.write.models import MAIN_LOCATION

DEFAULT_EXPIRES_IN = 900  # seconds: 15 minutes to pay
MAX_EXPIRES_IN = 604_800  # a week
SALE = "sale"  # the reason of a commit's ledger rows


@dataclass(frozen=True)
class ReservationLine:
    product_id: UUID
    quantity: int
    location: str = MAIN_LOCATION  # a location's code


@dataclass(frozen=True)
class PlaceReservation(Command):
    lines: tuple  # of ReservationLine, one per (product, location)
    expires_in: int = DEFAULT_EXPIRES_IN  # seconds
    reference: str | None = None  # the shop's order, cart, ...
    actor_id: int | None = None


@dataclass(frozen=True)
class CommitReservation(Command):
    """The order is paid: the held stock leaves (ledger rows with reason ``sale`` and the reference)."""

    reservation_id: UUID
    actor_id: int | None = None


@dataclass(frozen=True)
class ReleaseReservation(Command):
    """The customer gave up: the held stock is available again."""

    reservation_id: UUID


@dataclass(frozen=True)
class ExtendReservation(Command):
    """Hold the stock until ``expires_in`` seconds from now."""

    reservation_id: UUID
    expires_in: int


@dataclass(frozen=True)
class ExpireReservations(Command):
    """Record up to ``limit`` of the active reservations whose time is up as expired."""

    limit: int = 500


@events_in_sql(events.ReservationPlaced, events.StockLow)
def place_reservation(command):
    """Hold every line's quantity at its location, all or nothing; return the reservation."""
    check_distinct_lines([(line.product_id, line.location) for line in command.lines])
    # The products' rows too: a bulk import that sets their stock holds them until it commits.
    lock_products([line.product_id for line in command.lines], [line.location for line in command.lines], rows=True)
    reservation_id = uuid.uuid4()
    rows = fetch_dicts(
        reservation_sql.place_sql(events.ReservationPlaced, project=single_database()),
        {
            **stock_lines_params([(line.product_id, line.location, line.quantity, None) for line in command.lines]),
            "id": reservation_id,
            "reference": command.reference,
            "expires_in": command.expires_in,
            "now": timezone.now(),
            "actor_id": command.actor_id,
        },
    )
    if rows[0]["id"] is None:
        _refuse(rows)
    return _shown(rows[0])


def _shown(row):
    """Return the reservation an answer row carries, as the API shows it."""
    return shown_reservation(
        {name: row[name] for name in ("id", "status", "reference", "expires_at", "created_at", "lines")}
    )


def _refuse(rows):
    """Raise why a reservation was not placed: the first unknown product or location, or every short line."""
    raise_unknown_lines(rows)
    short = [
        {
            "product": str(row["product_id"]),
            "location": row["location"],
            "requested": row["amount"],
            "available": max(row["on_hand"] - row["reserved"], 0),
        }
        for row in rows
        if row["on_hand"] - row["reserved"] < row["amount"]
    ]
    raise InsufficientStockError(
        f"Not enough stock available for {len(short)} line(s); nothing was reserved.", lines=short
    )


# The statements of the commands other than placing and committing (products/write/sql/).
_UNSALEABLE_SQL = sql.load("unsaleable_line")
_PRODUCTS_OF = sql.load("reservation_products")
_STATUS_SQL = sql.load("reservation_status")
_RELEASE_SQL = sql.load("release_reservation")
_EXTEND_SQL = sql.load("extend_reservation")
_EXPIRE_SQL = sql.load("expire_reservations")


def _raise_not_active(reservation_id):
    """Raise why a reservation cannot change: unknown, committed, released, expired, or a line it cannot sell."""
    rows = fetch_dicts(_STATUS_SQL, {"id": reservation_id})
    if not rows:
        raise ReservationNotFoundError("Reservation not found.")
    # Only a reservation still holding stock can be refused for a line it cannot sell.
    if rows[0]["status"] == "active" and rows[0]["running"]:
        _raise_unsaleable(reservation_id)
    if rows[0]["status"] == "committed":
        raise ReservationCommittedError("The reservation was committed.")
    if rows[0]["status"] == "released":
        raise ReservationReleasedError("The reservation was released.")
    raise ReservationExpiredError("The reservation has expired: it holds nothing any more.")


def _raise_unsaleable(reservation_id):
    """Raise why an active reservation cannot be committed: a product archived, or a location made inactive."""
    for line in fetch_dicts(_UNSALEABLE_SQL, {"id": reservation_id}):
        if line["archived"]:
            raise UnknownProductError(
                f"Product {line['product_id']} was archived: release the reservation.", field="non_field_errors"
            )
        raise InactiveLocationError(
            f"Location {line['location']!r} is inactive: the reservation cannot be committed until it is active"
            " again; release it, or reactivate the location."
        )


def _representation(event):
    return event_log.publish(event).payload["reservation"]


@events_in_sql(events.ReservationCommitted, events.StockAdjusted)
def commit_reservation(command):
    """Take the held stock out of each line's location (a sale); return the reservation."""
    # The products' rows too, in id order before the statement bumps them: a bulk import
    # locks them in that order without their advisory locks.
    lock_products_of(_PRODUCTS_OF, {"id": command.reservation_id}, rows=True)
    params = {"id": command.reservation_id, "reason": SALE, "now": timezone.now(), "actor_id": command.actor_id}
    rows = fetch_dicts(reservation_sql.commit_sql(events.ReservationCommitted, project=single_database()), params)
    if not rows:
        _raise_not_active(command.reservation_id)
    return _shown(rows[0])


def release_reservation(command):
    """Give the held stock back to what is available; return the reservation."""
    if not fetch_dicts(_RELEASE_SQL, {"id": command.reservation_id, "now": timezone.now()}):
        _raise_not_active(command.reservation_id)
    return _representation(events.ReservationReleased(command.reservation_id))


def extend_reservation(command):
    """Hold an active reservation's stock until ``expires_in`` seconds from now; return it."""
    lock_products_of(_PRODUCTS_OF, {"id": command.reservation_id})
    params = {"id": command.reservation_id, "expires_in": command.expires_in, "now": timezone.now()}
    if not fetch_dicts(_EXTEND_SQL, params):
        _raise_not_active(command.reservation_id)
    return _representation(events.ReservationExtended(command.reservation_id))


def expire_reservations(command):
    """Record lapsed reservations as expired, with an event each; return how many."""
    with connection.cursor() as cursor:
        cursor.execute(_EXPIRE_SQL, {"limit": command.limit, "now": timezone.now()})
        expired = [row[0] for row in cursor.fetchall()]
    for reservation_id in expired:
        event_log.publish(events.ReservationExpired(reservation_id))
    return len(expired)


HANDLERS = {
    PlaceReservation: place_reservation,
    CommitReservation: commit_reservation,
    ReleaseReservation: release_reservation,
    ExtendReservation: extend_reservation,
    ExpireReservations: expire_reservations,
}
