"""Events of a product's life: created, its details changed, archived."""

from uuid import UUID

from cqrs_demo.bus import Event
from products.events.schema import Movement, Product, event


@event(version=2, carries={"product": Product, "movements": list[Movement]})
class ProductCreated(Event):
    """A product was created; ``product`` is its state, ``movements`` its opening ledger row (at main)."""

    product_id: UUID


@event(version=2, carries={"product": Product})
class ProductDetailsUpdated(Event):
    """Its details (name, description, category, price, reorder point) changed; ``product`` is its state."""

    product_id: UUID


@event(version=2)
class ProductArchived(Event):
    """The product was archived: it leaves every read (but its history) with its ledger."""

    product_id: UUID
