"""The event log: every event is appended to ``products_event`` in the command's transaction, then published.

A transaction-level advisory lock serializes appends, so event ids grow in commit order:
a consumer that remembers the last id it applied never skips an event committed later.
Payloads are built under that lock, from the write tables, so each one describes the
state as of its place in the log (a rename committed just before is already visible).
"""

import dataclasses

import orjson
from django.db import connection

from cqrs_demo.bus import bus
from products import events
from products.write import representation
from products.write.models import EventRecord

EVENT_LOG_LOCK = 7_401_001  # any constant shared by every writer of the log
SCHEMA_VERSION = 1


def _json_safe(value):
    # µs precision and "Z", as the API renders datetimes; Decimal and UUID become strings.
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_UTC_Z, default=str))


def _category(event):
    return {"category": representation.category(event.slug)}


def _product(event):
    return {"product": representation.product(event.product_id)}


def _created_product(event):
    return {**_product(event), "movements": representation.movements(event.product_id)}


def _stock_change(event):
    return {**_product(event), "movement": representation.movement(event.movement_id)}


# The state each event carries besides its own fields, so the log alone rebuilds a read store.
STATE = {
    events.CategoryCreated: _category,
    events.CategoryRenamed: _category,
    events.ProductCreated: _created_product,
    events.ProductDetailsUpdated: _product,
    events.ProductArchived: lambda event: {},
    events.StockAdjusted: _stock_change,
    events.StockSet: _stock_change,
}


def payload_of(event):
    """Return the JSON payload of ``event``: its fields plus the state it left behind."""
    return _json_safe({**dataclasses.asdict(event), **STATE[type(event)](event)})


def append(event):
    """Write ``event`` to the log; return its record."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_LOG_LOCK])
    return EventRecord.objects.create(
        type=type(event).__name__,
        product_id=getattr(event, "product_id", None),
        payload=payload_of(event),
    )


def publish(event):
    """Append ``event`` to the log, then hand it to its handlers on the bus (same transaction)."""
    append(event)
    bus.publish(event)


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
