"""Append every domain event to the event log (``products_event``) in the command's transaction.

A transaction-level advisory lock serializes appends, so event ids grow in commit order:
a consumer that remembers the last id it applied never skips an event committed later.
Payloads are built under that lock, from the write tables, so each one describes the
state as of its place in the log (a rename committed just before is already visible).
"""

import dataclasses

import orjson
from django.db import connection

from products import events, snapshots
from products.models import EventRecord

EVENT_LOG_LOCK = 7_401_001  # any constant shared by every writer of the log
SCHEMA_VERSION = 1


def _json_safe(value):
    # µs precision and "Z", as the API renders datetimes; Decimal and UUID become strings.
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_UTC_Z, default=str))


def payload_of(event):
    """Return the JSON payload of ``event``: its fields plus the state it left behind."""
    data = dataclasses.asdict(event)
    if isinstance(event, (events.CategoryCreated, events.CategoryRenamed)):
        data["category"] = snapshots.category(event.slug)
    elif isinstance(event, events.ProductCreated):
        data["product"] = snapshots.representation(event.product_id)
        data["movements"] = snapshots.movements(product_id=event.product_id)
    elif isinstance(event, events.ProductDetailsUpdated):
        data["product"] = snapshots.representation(event.product_id)
    elif isinstance(event, (events.StockAdjusted, events.StockSet)):
        data["product"], data["movement"] = snapshots.stock_change(event.product_id, event.movement_id)
    return _json_safe(data)


def append(event):
    """Write ``event`` to the log; return its record."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOG_LOCK])
    return EventRecord.objects.create(
        type=type(event).__name__,
        product_id=getattr(event, "product_id", None),
        payload=payload_of(event),
    )


def message_of(record):
    """Return the versioned message body other services consume (see the README)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "event_id": record.id,
        "type": record.type,
        "product_id": str(record.product_id) if record.product_id else None,
        "occurred_at": _json_safe(record.created_at),
        "data": record.payload,
    }
