"""Commands of reservations: hold stock during checkout, then commit, release or extend the hold; expire lapsed ones.

What a (product, location) has available is its quantity less what the lines of active
reservations hold there until a moment still to come (``ReservationLine.held_until``), so a
hold stops counting at its expiry with no job running; ``ExpireReservations`` only records
the lapse (status ``expired``, an event) and tidies the lines.

The rules hold under any concurrency by construction:

- every command that can take available stock (placing, extending; the stock commands'
  removals, see ``products.write.commands.stock``) holds the locks of the products it
  touches, taken in one global order (sorted keys) in a statement of their own, so two
  reservations naming the same products in opposite orders never deadlock;
- the statement after the locks reads with a fresh snapshot, so it sees every earlier
  holder's writes, and compares expiries with the clock as it is then
  (``clock_timestamp()``), never with the moment the transaction began: a hold that one
  command counted as lapsed can never be extended or committed afterwards;
- a reservation's row lock (its UPDATE ... WHERE status = 'active') lets exactly one of a
  commit, a release, an extension or the expiry end or change it.
"""

import uuid
from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone

from cqrs_demo.bus import Command
from products import events
from products.errors import (
    DuplicateLineError,
    InsufficientStockError,
    ReservationCommittedError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
    UnknownProductError,
)
from products.read.tables import held
from products.sql import fetch_dicts
from products.write import event_log
from products.write.commands.common import lock_products, lock_products_of, raise_unusable_location
from products.write.commands.stock import AdjustStock, adjust_stock
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


# After the products' locks: check every line (product active, location active, available
# there), and insert the reservation and its lines only if all pass. Answers every line,
# with what failed, and whether it was placed.
_PLACE_SQL = f"""
    WITH wanted AS (
        SELECT * FROM unnest(%(products)s::uuid[], %(locations)s::text[], %(quantities)s::integer[])
                   WITH ORDINALITY AS w(product_id, location, quantity, n)
    ), location AS MATERIALIZED (
        -- A concurrent deactivation waits for this reservation, or this one sees it (FOR SHARE).
        SELECT l.id, l.code FROM products_location l
         WHERE l.code IN (SELECT location FROM wanted) AND l.is_active ORDER BY l.code FOR SHARE OF l
    ), line AS MATERIALIZED (
        SELECT w.n, w.product_id, w.location, w.quantity, p.id IS NOT NULL AS known, l.id AS location_id,
               coalesce(s.quantity, 0) - {held("w.product_id", "l.id", side="write")} AS available
          FROM wanted w
          LEFT JOIN products_product p ON p.id = w.product_id AND NOT p.is_archived
          LEFT JOIN location l ON l.code = w.location
          LEFT JOIN products_stocklevel s ON s.product_id = w.product_id AND s.location_id = l.id
    ), reservation AS (
        INSERT INTO products_reservation (id, status, reference, expires_at, version, created_at, updated_at,
                                          created_by_id)
        SELECT %(id)s, 'active', %(reference)s, clock_timestamp() + make_interval(secs => %(expires_in)s), 1,
               %(now)s, %(now)s, %(actor_id)s
         WHERE (SELECT bool_and(known AND location_id IS NOT NULL AND available >= quantity) FROM line)
        RETURNING id, expires_at
    ), placed AS (
        INSERT INTO products_reservationline (reservation_id, product_id, location_id, quantity, held_until)
        SELECT r.id, line.product_id, line.location_id, line.quantity, r.expires_at
          FROM reservation r CROSS JOIN line ORDER BY line.n
        RETURNING reservation_id
    )
    SELECT line.*, EXISTS (SELECT FROM placed) AS placed FROM line ORDER BY n
"""


def place_reservation(command):
    """Hold every line's quantity at its location, all or nothing; return the reservation."""
    keys = [(line.product_id, line.location) for line in command.lines]
    if len(set(keys)) != len(keys):
        raise DuplicateLineError("Each (product, location) may appear in one line only.")
    lock_products(line.product_id for line in command.lines)
    reservation_id = uuid.uuid4()
    rows = fetch_dicts(
        _PLACE_SQL,
        {
            "id": reservation_id,
            "products": [str(line.product_id) for line in command.lines],
            "locations": [line.location for line in command.lines],
            "quantities": [line.quantity for line in command.lines],
            "reference": command.reference,
            "expires_in": command.expires_in,
            "now": timezone.now(),
            "actor_id": command.actor_id,
        },
    )
    if not rows[0]["placed"]:
        _refuse(rows)
    return event_log.publish(events.ReservationPlaced(reservation_id)).payload["reservation"]


def _refuse(rows):
    """Raise why a reservation was not placed: the first unknown product or location, or every short line."""
    for row in rows:
        if not row["known"]:
            raise UnknownProductError(f"Product {row['product_id']} does not exist or is archived.")
    for row in rows:
        if row["location_id"] is None:
            raise_unusable_location(row["location"])
    short = [
        {
            "product": str(row["product_id"]),
            "location": row["location"],
            "requested": row["quantity"],
            "available": max(row["available"], 0),
        }
        for row in rows
        if row["available"] < row["quantity"]
    ]
    raise InsufficientStockError(
        f"Not enough stock available for {len(short)} line(s); nothing was reserved.", lines=short
    )


# The products of a reservation, for their locks (its lines never change).
_PRODUCTS_OF = "SELECT product_id FROM products_reservationline WHERE reservation_id = %s"

# End an active reservation whose time is not up (``status``: how), and its holds; answer
# with its lines (none: it was not active).
_END_SQL = """
    WITH ended AS (
        UPDATE products_reservation SET status = %(status)s, version = version + 1, updated_at = %(now)s
         WHERE id = %(id)s AND status = 'active' AND expires_at > clock_timestamp()
        RETURNING id, reference
    ), released AS (
        UPDATE products_reservationline rl SET held_until = NULL FROM ended WHERE rl.reservation_id = ended.id
        RETURNING rl.id, rl.product_id, rl.location_id, rl.quantity
    )
    SELECT ended.reference, r.product_id, l.code AS location, r.quantity
      FROM ended CROSS JOIN released r JOIN products_location l ON l.id = r.location_id ORDER BY r.id
"""


def _end(reservation_id, status):
    rows = fetch_dicts(_END_SQL, {"id": reservation_id, "status": status, "now": timezone.now()})
    if not rows:
        _raise_not_active(reservation_id)
    return rows


def _raise_not_active(reservation_id):
    """Raise why a reservation cannot change: unknown, or committed, released or expired."""
    rows = fetch_dicts("SELECT status FROM products_reservation WHERE id = %s", [reservation_id])
    if not rows:
        raise ReservationNotFoundError("Reservation not found.")
    if rows[0]["status"] == "committed":
        raise ReservationCommittedError("The reservation was committed.")
    if rows[0]["status"] == "released":
        raise ReservationReleasedError("The reservation was released.")
    raise ReservationExpiredError("The reservation has expired: it holds nothing any more.")


def _representation(event):
    return event_log.publish(event).payload["reservation"]


def commit_reservation(command):
    """Take the held stock out of each line's location (a sale); return the reservation."""
    lock_products_of(_PRODUCTS_OF, [command.reservation_id])
    for line in _end(command.reservation_id, "committed"):
        # Its hold is gone, so what other reservations hold stays: the removal cannot fail.
        adjust_stock(
            AdjustStock(
                product_id=line["product_id"],
                delta=-line["quantity"],
                reason=SALE,
                location=line["location"],
                reference=line["reference"],
                actor_id=command.actor_id,
            )
        )
    return _representation(events.ReservationCommitted(command.reservation_id))


def release_reservation(command):
    """Give the held stock back to what is available; return the reservation."""
    _end(command.reservation_id, "released")
    return _representation(events.ReservationReleased(command.reservation_id))


_EXTEND_SQL = """
    WITH extended AS (
        UPDATE products_reservation
           SET expires_at = clock_timestamp() + make_interval(secs => %(expires_in)s),
               version = version + 1, updated_at = %(now)s
         WHERE id = %(id)s AND status = 'active' AND expires_at > clock_timestamp()
        RETURNING id, expires_at
    )
    UPDATE products_reservationline rl SET held_until = extended.expires_at
      FROM extended WHERE rl.reservation_id = extended.id
    RETURNING rl.id
"""


def extend_reservation(command):
    """Hold an active reservation's stock until ``expires_in`` seconds from now; return it."""
    lock_products_of(_PRODUCTS_OF, [command.reservation_id])
    params = {"id": command.reservation_id, "expires_in": command.expires_in, "now": timezone.now()}
    if not fetch_dicts(_EXTEND_SQL, params):
        _raise_not_active(command.reservation_id)
    return _representation(events.ReservationExtended(command.reservation_id))


# The active reservations whose time is up, oldest first; ones another transaction is ending
# are skipped (it decides), so two runs never wait for each other.
_EXPIRE_SQL = """
    WITH lapsed AS (
        SELECT id FROM products_reservation
         WHERE status = 'active' AND expires_at <= clock_timestamp()
         ORDER BY expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
    ), expired AS (
        UPDATE products_reservation r SET status = 'expired', version = version + 1, updated_at = %(now)s
          FROM lapsed WHERE r.id = lapsed.id
        RETURNING r.id, r.expires_at
    ), tidied AS (
        UPDATE products_reservationline rl SET held_until = NULL FROM expired WHERE rl.reservation_id = expired.id
    )
    SELECT id FROM expired ORDER BY expires_at, id
"""


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
