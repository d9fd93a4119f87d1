"""The log-following projector: apply the event log to a separate read database, in order (split mode).

It reads the events of finished transactions only, in (xact_id, id) order (see
``products.sql.FINISHED_EVENTS``), so an event committed later can never land behind its
position. Each batch of events and the position of the last one applied commit together in
one transaction of the read database, so a crash or a restart never skips an event nor
applies one twice (and applying one twice would change nothing: rows are upserted, and a
product row only ever moves to a newer version). Events carry the state they left (see
``products.write.event_log``), so applying them needs no access to the write tables, and
the log alone can rebuild the read store.
"""

import time

import orjson
from django.db import connections, transaction
from django.utils import timezone

from cqrs_demo.routers import read_store_alias
from products import events
from products.events.stock import MAIN_LOCATION
from products.read.models import PROJECTOR_POSITION, ProjectorPosition
from products.read.projector import ARCHIVE_SQL, DELETE_HOLDS_SQL, rename_category_sql
from products.read.rebuild import clear
from products.read.tables import (
    CATEGORIES,
    HOLDS,
    LOCATIONS,
    MOVEMENTS,
    PRODUCTS,
    RESERVATIONS,
    SEARCH,
    STOCK_COLUMNS,
    STOCK_LEVELS,
)
from products.sql import FINISHED_EVENTS, fetch_dicts

# A product's row, never to an older version, and its search document only if the row was
# applied: one statement, so that a batch's statements can go in one round trip.
_UPSERT_PRODUCT_SQL = f"""
    WITH applied AS ({PRODUCTS.upsert_sql()} RETURNING id)
    {SEARCH.upsert_sql(when="EXISTS (SELECT FROM applied)")}
"""
_INSERT_MOVEMENT_SQL = MOVEMENTS.upsert_sql()
# A ledger row carries its location and the quantity there after it: the stock level's read row.
_UPSERT_STOCK_LEVEL_SQL = STOCK_LEVELS.upsert_sql()
# The stock columns only, never backwards; the whole row from the payload if it has none yet
# (an import's event may come before the product's creation in the log: see the README).
_STOCK_CHANGED_SQL = PRODUCTS.upsert_sql(update=STOCK_COLUMNS)
_UPSERT_CATEGORY_SQL = CATEGORIES.upsert_sql()
_UPSERT_LOCATION_SQL = LOCATIONS.upsert_sql()
_UPSERT_RESERVATION_SQL = RESERVATIONS.upsert_sql()  # never to an older version
_INSERT_HOLD_SQL = HOLDS.upsert_sql()


# Payloads logged before stock had locations lack these fields: their values then.
_PRODUCT_DEFAULTS = {"reorder_point": 0}
_MOVEMENT_DEFAULTS = {"location": MAIN_LOCATION, "reference": None}


def _apply_product(cursor, data):
    cursor.execute(_UPSERT_PRODUCT_SQL, {**_PRODUCT_DEFAULTS, **data["product"]})


def _apply_movement(cursor, product_id, movement):
    movement = {**_MOVEMENT_DEFAULTS, **movement}
    cursor.execute(_INSERT_MOVEMENT_SQL, movement)
    cursor.execute(_UPSERT_STOCK_LEVEL_SQL, {**movement, "product_id": product_id})


def _apply_category(cursor, data):
    cursor.execute(_UPSERT_CATEGORY_SQL, data["category"])


def _apply_category_renamed(cursor, data):
    _apply_category(cursor, data)
    cursor.execute(rename_category_sql(PRODUCTS.name), data)


def _apply_location(cursor, data):
    cursor.execute(_UPSERT_LOCATION_SQL, data["location"])


def _apply_product_created(cursor, data):
    _apply_product(cursor, data)
    for movement in data["movements"]:  # the opening stock, at main
        _apply_movement(cursor, data["product_id"], movement)


def _apply_product_archived(cursor, data):
    for statement in ARCHIVE_SQL:
        cursor.execute(statement, data)


def _apply_stock_changed(cursor, data):
    # As the same-transaction projection does: the stock columns only, never backwards; the
    # stock level at the movement's location, and the ledger row.
    cursor.execute(_STOCK_CHANGED_SQL, {**_PRODUCT_DEFAULTS, **data["product"]})
    _apply_movement(cursor, data["product_id"], data["movement"])


def _apply_reservation(cursor, data):
    # The stored status (not the one a read shows) and version: never back to an older one.
    reservation = {**data["reservation"], "status": data["status"], "version": data["version"]}
    reservation.update(updated_at=data["updated_at"], lines=orjson.dumps(reservation["lines"]).decode())
    if cursor.fetchone(f"{_UPSERT_RESERVATION_SQL} RETURNING id", reservation):
        # Applied (not older than the row it found): its holds are these.
        cursor.execute(DELETE_HOLDS_SQL, [data["reservation_id"]])
        for hold in data["holds"]:
            cursor.execute(_INSERT_HOLD_SQL, hold)


# How each event's payload changes the read store: the log-following twin of the bus's event table.
APPLY = {
    events.CategoryCreated: _apply_category,
    events.CategoryRenamed: _apply_category_renamed,
    events.LocationCreated: _apply_location,
    events.LocationChanged: _apply_location,
    events.ProductCreated: _apply_product_created,
    events.ProductDetailsUpdated: _apply_product,
    events.ProductArchived: _apply_product_archived,
    events.StockAdjusted: _apply_stock_changed,
    events.StockSet: _apply_stock_changed,
    events.StockLow: lambda cursor, data: None,  # no read row changes
    events.StockTransferred: lambda cursor, data: None,  # its legs are StockAdjusted events
    events.ReservationPlaced: _apply_reservation,
    events.ReservationCommitted: _apply_reservation,
    events.ReservationReleased: _apply_reservation,
    events.ReservationExtended: _apply_reservation,
    events.ReservationExpired: _apply_reservation,
}


# The worker reads the log (products.write.models.EventRecord) by its table, as any consumer
# would: the events of finished transactions after its position, in (xact_id, id) order.
_NEXT_EVENTS_SQL = f"""
    SELECT xact_id, id, type, payload FROM products_event
     WHERE (xact_id, id) > (%s, %s) AND {FINISHED_EVENTS}
     ORDER BY xact_id, id LIMIT %s
"""
_LAG_SQL = """
    SELECT (SELECT coalesce(max(id), 0) FROM products_event) AS latest_event_id,
           count(*) AS events_behind, min(created_at) AS oldest_pending_at
      FROM products_event WHERE (xact_id, id) > (%s, %s)
"""


def _upgrade(position):
    """Give a position stored before events had transaction ids the one of its event.

    Migration 0004 gave every event it found the id of its own transaction; without this,
    ``(xact_id, id) > (0, N)`` would apply the whole log again.
    """
    rows = fetch_dicts(
        "SELECT xact_id FROM products_event WHERE id <= %s ORDER BY id DESC LIMIT 1", [position.last_event_id]
    )
    if rows:
        position.last_xact_id = rows[0]["xact_id"]


class Statements:
    """A batch's statements, sent to the read database together: one round trip, not one each.

    ``execute`` queues a statement with its parameters bound (psycopg2 binds them on the
    client side anyway); ``fetchone`` sends what is queued, then its own statement, and
    returns that statement's first row; ``send`` sends what is queued. They run in order, in
    the batch's transaction, as they would one by one.
    """

    def __init__(self, cursor):
        self._cursor = cursor
        self._queued = []

    def execute(self, sql, params=None):
        self._queued.append(self._cursor.mogrify(sql, params).decode())

    def fetchone(self, sql, params=None):
        self.send()
        self._cursor.execute(sql, params)
        return self._cursor.fetchone()

    def send(self):
        if self._queued:
            self._cursor.execute(";\n".join(self._queued))
            self._queued.clear()


def apply_batch(batch_size=500):
    """Apply the next events of the log to the read store; return how many were applied."""
    read = read_store_alias()
    with transaction.atomic(using=read):
        ProjectorPosition.objects.using(read).get_or_create(name=PROJECTOR_POSITION)
        # The row lock keeps a second worker from applying the same events concurrently.
        position = ProjectorPosition.objects.using(read).select_for_update().get(name=PROJECTOR_POSITION)
        if position.last_event_id and not position.last_xact_id:
            _upgrade(position)
        records = fetch_dicts(_NEXT_EVENTS_SQL, [position.last_xact_id, position.last_event_id, batch_size])
        with connections[read].cursor() as cursor:
            statements = Statements(cursor)
            for record in records:
                APPLY[events.by_name(record["type"])](statements, orjson.loads(record["payload"]))
            statements.send()
        if records:
            position.last_xact_id, position.last_event_id = records[-1]["xact_id"], records[-1]["id"]
            position.save(update_fields=["last_xact_id", "last_event_id", "updated_at"])
    return len(records)


def run(*, follow=False, batch_size=500, poll_interval=0.5, on_batch=None, should_stop=lambda: False):
    """Apply batches until the log is drained (or, with ``follow``, until ``should_stop``)."""
    total = 0
    while not should_stop():
        applied = apply_batch(batch_size)
        total += applied
        if on_batch and applied:
            on_batch(applied, total)
        if applied < batch_size:
            if not follow:
                return total
            time.sleep(poll_interval)
    return total


def lag():
    """Return how far the read store is behind the log: events and seconds."""
    last_xact_id, position = (
        ProjectorPosition.objects.using(read_store_alias())
        .filter(name=PROJECTOR_POSITION)
        .values_list("last_xact_id", "last_event_id")
        .first()
    ) or (0, 0)
    [log] = fetch_dicts(_LAG_SQL, [last_xact_id, position])
    oldest = log["oldest_pending_at"]
    return {
        "last_applied_event_id": position,
        "latest_event_id": log["latest_event_id"],
        "events_behind": log["events_behind"],
        "seconds_behind": round((timezone.now() - oldest).total_seconds(), 3) if oldest else 0.0,
    }


def rebuild_from_log(batch_size=2000, progress=None):
    """Empty the read store and replay the whole event log into it, in one transaction."""
    read = read_store_alias()
    with transaction.atomic(using=read):
        clear()
        ProjectorPosition.objects.using(read).update_or_create(
            name=PROJECTOR_POSITION, defaults={"last_xact_id": 0, "last_event_id": 0}
        )
        total = 0
        while applied := apply_batch(batch_size):
            total += applied
            if progress:
                progress(total)
    return total
