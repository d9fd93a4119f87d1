"""Events of locations: the places stock is kept."""

from dataclasses import dataclass

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class LocationCreated(Event):
    code: str


@dataclass(frozen=True)
class LocationChanged(Event):
    """Its name or whether it is active changed; the payload carries its state."""

    code: str
