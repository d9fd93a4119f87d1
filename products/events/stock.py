"""Events of a product's stock: each names the ledger row it wrote, at a location.

``quantity`` is the product's quantity over all its locations; the ledger row (``movement``
in the payload) has the quantity at ``location``.
"""

from typing import Annotated
from uuid import UUID

from cqrs_demo.bus import Event
from products.events.schema import Movement, Product, TransferLine, event

# The code of the default location, which exists from the migration that creates locations;
# every stock was there before stock had locations.
MAIN_LOCATION = "main"


@event(version=2, carries={"product": Product, "movement": Movement})
class StockAdjusted(Event):
    """Stock was added or removed at a location; ``movement`` is its ledger row, ``product`` the state it left."""

    product_id: UUID
    movement_id: int
    delta: Annotated[int, "The change at the location."]
    quantity: Annotated[int, "The product's quantity after it, over all its locations."]
    location: Annotated[str, "The location's code."] = MAIN_LOCATION


@event(version=2, carries={"product": Product, "movement": Movement})
class StockSet(Event):
    """A recount set the quantity at a location; ``delta`` is the change it implied."""

    product_id: UUID
    movement_id: int
    delta: Annotated[int, "The change at the location."]
    quantity: Annotated[int, "The product's quantity after it, over all its locations."]
    location: Annotated[str, "The location's code."] = MAIN_LOCATION


# Keyed by the location the stock left: its legs are each product's StockAdjusted events.
@event(version=2, key="from_location")
class StockTransferred(Event):
    """Stock moved between locations; each line's two legs are ``StockAdjusted`` events (reason ``transfer``)."""

    from_location: str
    to_location: str
    lines: tuple[TransferLine, ...]
    reference: str | None = None


@event(version=2)
class StockLow(Event):
    """A change took the product's available (over its locations) from above its reorder point to or below it."""

    product_id: UUID
    available: Annotated[int, "Over its locations, after the change: quantity less what reservations hold."]
    reorder_point: int
