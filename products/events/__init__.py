"""Domain events: what happened, in the past tense; pure data, one module per aggregate.

Handlers publish them through the event log (``products.write.event_log.publish``); what each
one does to the read tables is its projection (``products.read.projections``), which the event
table on the bus (``products.read.projector``) and the split-mode worker run.
"""

from cqrs_demo.bus import Event
from products.events.categories import CategoryCreated, CategoryRenamed
from products.events.locations import LocationChanged, LocationCreated
from products.events.products import ProductArchived, ProductCreated, ProductDetailsUpdated
from products.events.reservations import (
    ReservationCommitted,
    ReservationExpired,
    ReservationExtended,
    ReservationPlaced,
    ReservationReleased,
)
from products.events.stock import StockAdjusted, StockLow, StockSet, StockTransferred

EVENT_TYPES = (
    CategoryCreated,
    CategoryRenamed,
    LocationCreated,
    LocationChanged,
    ProductCreated,
    ProductDetailsUpdated,
    ProductArchived,
    StockAdjusted,
    StockSet,
    StockTransferred,
    StockLow,
    ReservationPlaced,
    ReservationCommitted,
    ReservationReleased,
    ReservationExtended,
    ReservationExpired,
)
_BY_NAME = {event_type.__name__: event_type for event_type in EVENT_TYPES}


def by_name(name):
    """Return the event type stored in the log as ``name``."""
    return _BY_NAME[name]


__all__ = [*_BY_NAME, "EVENT_TYPES", "Event", "by_name"]
