"""The event log: every event is appended to ``products_event`` in the command's transaction, then published.

Appends take no lock, so commands on different products never wait for each other. Each
row records the id of its transaction (``xact_id``, a column default). The split-mode worker
and the relays read the log in commit order through logical decoding
(``products.events.feed``); none ever skips one. A product's commands take that product's lock before their
transaction gets an id (``products.write.commands.common``), so a product's events are in
commit order; the catalogue lock does the same for a category rename against product
writes. Payloads carry the state each event left, built from the write tables after the
command's own writes, so the log alone can rebuild a read store. The stock commands write
their event row in their own statement (``products.write.commands.stock``).

What each event's payload holds, and the envelope and headers it travels in, are declared
once with its type (``products.events.schema``); ``docs/asyncapi.yaml`` publishes them.
"""

import dataclasses
import datetime
from typing import NamedTuple

import orjson

from cqrs_demo.bus import bus
from products import events
from products.events import schema
from products.write import representation
from products.write.models import EventRecord


def _json_default(value):
    if isinstance(value, datetime.datetime):
        # UTC with all six digits of microseconds and "Z", as the stock statement writes them in SQL.
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)  # Decimal, UUID


def _json_safe(value):
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATETIME, default=_json_default))


def _category(event):
    return {"category": representation.category(event.slug)}


def _location(event):
    return {"location": representation.location(event.code)}


def _product(event):
    return {"product": representation.product_state(event.product_id)}


def _reservation(event):
    # The stored status, version and updated_at let a read store upsert it never backwards.
    shown, state = representation.reservation(event.reservation_id)
    return {"reservation": shown, **state, "holds": representation.holds(event.reservation_id)}


def _created_product(event):
    return {**_product(event), "movements": representation.movements(event.product_id)}


# The state each event carries besides its own fields (its declaration's ``carries``), so the
# log alone rebuilds a read store. (The stock and reservation events on the checkout path are
# written, with the same shapes, by their commands' statements.)
STATE = {
    events.CategoryCreated: _category,
    events.CategoryRenamed: _category,
    events.LocationCreated: _location,
    events.LocationChanged: _location,
    events.ProductCreated: _created_product,
    events.ProductDetailsUpdated: _product,
    events.ProductArchived: lambda event: {},
    events.StockTransferred: lambda event: {},  # its legs' StockAdjusted events carry the state
    events.ReservationPlaced: _reservation,
    events.ReservationCommitted: _reservation,
    events.ReservationReleased: _reservation,
    events.ReservationExtended: _reservation,
    events.ReservationExpired: _reservation,
}


def payload_of(event):
    """Return the JSON payload of ``event``: its fields plus the state it left behind."""
    return _json_safe({**dataclasses.asdict(event), **STATE[type(event)](event)})


def append(event):
    """Write ``event`` to the log; return its record."""
    return EventRecord.objects.create(
        type=type(event).__name__,
        product_id=getattr(event, "product_id", None),
        payload=payload_of(event),
    )


def publish(event):
    """Append ``event`` to the log, then hand it and its payload to its handlers on the bus (same transaction).

    Return its record. The handlers (single-database mode's projections) apply the payload as
    the log recorded it, as the split-mode worker does when it reads the log.
    """
    record = append(event)
    bus.publish(event, payload=record.payload)
    return record


def headers_of(record):
    """Return the message headers of ``record``: its id, type and schema version (docs/asyncapi.yaml)."""
    return schema.headers(events.by_name(record.type), record.id)


def message_of(record):
    """Return the versioned message body other services consume (docs/asyncapi.yaml)."""
    return {
        "schema_version": events.by_name(record.type).schema_version,
        "event_id": record.id,
        "type": record.type,
        "product_id": str(record.product_id) if record.product_id else None,
        "occurred_at": _json_safe(record.created_at),
        "data": record.payload,
    }


class Envelope(NamedTuple):
    """An event as every broker carries it: its key, its type, its headers and its JSON body."""

    key: str
    type: str
    headers: dict
    body: bytes


def envelope_of(record):
    """Return what the relay publishes for ``record``, all of it derived from its event's declaration."""
    event_type = events.by_name(record.type)
    return Envelope(
        key=schema.message_key(event_type, record.payload),
        type=record.type,
        headers=headers_of(record),
        body=orjson.dumps(message_of(record)),
    )
