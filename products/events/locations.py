"""Events of locations: the places stock is kept."""

from cqrs_demo.bus import Event
from products.events.schema import Location, event


@event(version=2, carries={"location": Location}, key="code")
class LocationCreated(Event):
    """A location was created; ``location`` is its state (main's is written by the migration that creates locations)."""

    code: str


@event(version=2, carries={"location": Location}, key="code")
class LocationChanged(Event):
    """Its name or whether it is active changed; ``location`` is its state."""

    code: str
