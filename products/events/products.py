"""Events of a product's life: created, its details changed, archived."""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class ProductCreated(Event):
    product_id: UUID


@dataclass(frozen=True)
class ProductDetailsUpdated(Event):
    product_id: UUID


@dataclass(frozen=True)
class ProductArchived(Event):
    product_id: UUID
