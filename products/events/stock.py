"""Events of a product's stock: each names the ledger row it wrote, at a location.

``quantity`` is the product's quantity over all its locations; the ledger row (``movement``
in the payload) has the quantity at ``location``.
"""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class StockAdjusted(Event):
    product_id: UUID
    movement_id: int
    delta: int
    quantity: int
    location: str = "main"  # a location's code (events logged before locations: main)


@dataclass(frozen=True)
class StockSet(Event):
    """A recount set the quantity; ``delta`` is the change it implied."""

    product_id: UUID
    movement_id: int
    delta: int
    quantity: int
    location: str = "main"  # a location's code (events logged before locations: main)
