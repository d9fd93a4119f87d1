"""The split-mode projector: apply the event log to a separate read database, in order.

Each batch of events and the position of the last one applied commit together in one
transaction of the read database, so a crash or a restart never skips an event nor
applies one twice (a second insert of a ledger row would fail on its primary key).
Events carry the state they left (see ``outbox``), so applying them needs no access to
the write tables, and the log alone can rebuild the read store.
"""

import time

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Max
from django.utils import timezone

from cqrs_demo.routers import read_store_alias
from products.models import EventRecord
from products.projections import PRODUCT_COLUMNS, PROJECTOR_POSITION, SEARCH_DOCUMENT_SQL, clear
from products.read_models import ProjectorPosition

_UPSERT_PRODUCT_SQL = (
    f"INSERT INTO read_product ({', '.join(PRODUCT_COLUMNS)}) VALUES ("
    "%(id)s, %(sku)s, %(name)s, %(description)s, %(category)s, %(category_name)s, %(price)s, %(quantity)s,"
    " %(in_stock)s, %(version)s, %(created_at)s, %(updated_at)s, "
    + SEARCH_DOCUMENT_SQL.format(sku="%(sku)s", name="%(name)s", description="%(description)s")
    + ") ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in PRODUCT_COLUMNS[1:])
    # Never let an older state overwrite a newer one.
    + " WHERE read_product.version <= EXCLUDED.version"
)
_INSERT_MOVEMENT_SQL = (
    "INSERT INTO read_stock_movement (id, product_id, delta, quantity_after, reason, created_at)"
    " VALUES (%(id)s, %(product_id)s, %(delta)s, %(quantity_after)s, %(reason)s, %(created_at)s)"
)
_UPSERT_CATEGORY_SQL = (
    "INSERT INTO read_category (slug, name, created_at, updated_at)"
    " VALUES (%(slug)s, %(name)s, %(created_at)s, %(updated_at)s)"
    " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at"
)


def _apply_product(cursor, data):
    cursor.execute(_UPSERT_PRODUCT_SQL, data["product"])


def _apply_category_created(cursor, data):
    cursor.execute(_UPSERT_CATEGORY_SQL, data["category"])


def _apply_category_renamed(cursor, data):
    cursor.execute(_UPSERT_CATEGORY_SQL, data["category"])
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


APPLY = {
    "CategoryCreated": _apply_category_created,
    "CategoryRenamed": _apply_category_renamed,
    "ProductCreated": _apply_product_created,
    "ProductDetailsUpdated": _apply_product,
    "ProductArchived": _apply_product_archived,
    "StockAdjusted": _apply_stock_changed,
    "StockSet": _apply_stock_changed,
}


def apply_batch(batch_size=500):
    """Apply the next events of the log to the read store; return how many were applied."""
    read = read_store_alias()
    with transaction.atomic(using=read):
        ProjectorPosition.objects.using(read).get_or_create(name=PROJECTOR_POSITION)
        # The row lock keeps a second worker from applying the same events concurrently.
        position = ProjectorPosition.objects.using(read).select_for_update().get(name=PROJECTOR_POSITION)
        records = list(
            EventRecord.objects.using(DEFAULT_DB_ALIAS)
            .filter(id__gt=position.last_event_id)
            .order_by("id")[:batch_size]
        )
        with connections[read].cursor() as cursor:
            for record in records:
                APPLY[record.type](cursor, record.payload)
        if records:
            position.last_event_id = records[-1].id
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
    pending = EventRecord.objects.using(DEFAULT_DB_ALIAS).filter(id__gt=position)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    latest = EventRecord.objects.using(DEFAULT_DB_ALIAS).aggregate(latest=Max("id"))["latest"] or 0
    return {
        "last_applied_event_id": position,
        "latest_event_id": latest,
        "events_behind": pending.count(),
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
