"""Events of categories."""

from cqrs_demo.bus import Event
from products.events.schema import Category, event


@event(version=2, carries={"category": Category}, key="slug")
class CategoryCreated(Event):
    """A category was created; ``category`` is its state."""

    slug: str


@event(version=2, carries={"category": Category}, key="slug")
class CategoryRenamed(Event):
    """A category was renamed; ``category`` is its state (its products' ``category_name`` follows)."""

    slug: str
    name: str
