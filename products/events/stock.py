"""Events of a product's stock: each names the ledger row it wrote."""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class StockAdjusted(Event):
    product_id: UUID
    movement_id: int
    delta: int
    quantity: int


@dataclass(frozen=True)
class StockSet(Event):
    """A recount set the quantity; ``delta`` is the change it implied."""

    product_id: UUID
    movement_id: int
    delta: int
    quantity: int
