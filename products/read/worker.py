"""The log-following projector: apply the event log to a separate read database, in order (split mode).

Each batch of events and the position of the last one applied commit together in one
transaction of the read database, so a crash or a restart never skips an event nor
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
from products.read.models import PROJECTOR_POSITION, ProjectorPosition
from products.read.rebuild import clear
from products.read.tables import CATEGORIES, MOVEMENTS, PRODUCTS
from products.sql import fetch_dicts

_UPSERT_PRODUCT_SQL = PRODUCTS.upsert_sql(
    # Never let an older state overwrite a newer one.
    guard="WHERE read_product.version <= EXCLUDED.version"
)
_INSERT_MOVEMENT_SQL = MOVEMENTS.upsert_sql()
_UPSERT_CATEGORY_SQL = CATEGORIES.upsert_sql()


def _apply_product(cursor, data):
    cursor.execute(_UPSERT_PRODUCT_SQL, data["product"])


def _apply_category(cursor, data):
    cursor.execute(_UPSERT_CATEGORY_SQL, data["category"])


def _apply_category_renamed(cursor, data):
    _apply_category(cursor, data)
    cursor.execute("UPDATE read_product SET category_name = %(name)s WHERE category_slug = %(slug)s", data)


def _apply_product_created(cursor, data):
    _apply_product(cursor, data)
    for movement in data["movements"]:
        cursor.execute(_INSERT_MOVEMENT_SQL, movement)


def _apply_product_archived(cursor, data):
    cursor.execute("DELETE FROM read_stock_movement WHERE product_id = %(product_id)s", data)
    cursor.execute("DELETE FROM read_product WHERE id = %(product_id)s", data)


def _apply_stock_changed(cursor, data):
    _apply_product(cursor, data)
    cursor.execute(_INSERT_MOVEMENT_SQL, data["movement"])


# How each event's payload changes the read store: the log-following twin of the bus's event table.
APPLY = {
    events.CategoryCreated: _apply_category,
    events.CategoryRenamed: _apply_category_renamed,
    events.ProductCreated: _apply_product_created,
    events.ProductDetailsUpdated: _apply_product,
    events.ProductArchived: _apply_product_archived,
    events.StockAdjusted: _apply_stock_changed,
    events.StockSet: _apply_stock_changed,
}


# The worker reads the log (products.write.models.EventRecord) by its table, as any consumer would.
_NEXT_EVENTS_SQL = "SELECT id, type, payload FROM products_event WHERE id > %s ORDER BY id LIMIT %s"
_LAG_SQL = """
    SELECT (SELECT coalesce(max(id), 0) FROM products_event) AS latest_event_id,
           count(*) AS events_behind, min(created_at) AS oldest_pending_at
      FROM products_event WHERE id > %s
"""


def apply_batch(batch_size=500):
    """Apply the next events of the log to the read store; return how many were applied."""
    read = read_store_alias()
    with transaction.atomic(using=read):
        ProjectorPosition.objects.using(read).get_or_create(name=PROJECTOR_POSITION)
        # The row lock keeps a second worker from applying the same events concurrently.
        position = ProjectorPosition.objects.using(read).select_for_update().get(name=PROJECTOR_POSITION)
        records = fetch_dicts(_NEXT_EVENTS_SQL, [position.last_event_id, batch_size])
        with connections[read].cursor() as cursor:
            for record in records:
                APPLY[events.by_name(record["type"])](cursor, orjson.loads(record["payload"]))
        if records:
            position.last_event_id = records[-1]["id"]
            position.save(update_fields=["last_event_id", "updated_at"])
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
    position = (
        ProjectorPosition.objects.using(read_store_alias())
        .filter(name=PROJECTOR_POSITION)
        .values_list("last_event_id", flat=True)
        .first()
    ) or 0
    [log] = fetch_dicts(_LAG_SQL, [position])
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
        ProjectorPosition.objects.using(read).update_or_create(name=PROJECTOR_POSITION, defaults={"last_event_id": 0})
        total = 0
        while applied := apply_batch(batch_size):
            total += applied
            if progress:
                progress(total)
    return total
