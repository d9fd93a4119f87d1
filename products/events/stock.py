"""Events of a product's stock: each names the ledger row it wrote, at a location.

``quantity`` is the product's quantity over all its locations; the ledger row (``movement``
in the payload) has the quantity at ``location``.
"""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Event

# The code of the default location, which exists from the migration that creates locations;
# every stock was there before stock had locations.
MAIN_LOCATION = "main"


@dataclass(frozen=True)
class StockAdjusted(Event):
    product_id: UUID
    movement_id: int
    delta: int
    quantity: int
    location: str = MAIN_LOCATION  # a location's code


@dataclass(frozen=True)
class StockSet(Event):
    """A recount set the quantity; ``delta`` is the change it implied."""

    product_id: UUID
    movement_id: int
    delta: int
    quantity: int
    location: str = MAIN_LOCATION  # a location's code


@dataclass(frozen=True)
class StockTransferred(Event):
    """Stock moved between locations; each line's two legs are ``StockAdjusted`` events of their own."""

    from_location: str
    to_location: str
    lines: tuple  # ({"product": id, "quantity": n}, ...)
    reference: str | None = None


@dataclass(frozen=True)
class StockLow(Event):
    """A change took the product's available (over its locations) to or below its reorder point."""

    product_id: UUID
    available: int
    reorder_point: int
