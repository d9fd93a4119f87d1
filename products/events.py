"""Domain events: what happened, in the past tense, each sent as its own Django signal.

Handlers send events explicitly (``publish``) inside their transaction; receivers run
synchronously in that transaction, so a receiver that raises rolls the command back.
"""

from dataclasses import dataclass
from uuid import UUID

from django.dispatch import Signal


@dataclass(frozen=True)
class Event:
    """Base class of domain events."""


@dataclass(frozen=True)
class CategoryCreated(Event):
    slug: str


@dataclass(frozen=True)
class CategoryRenamed(Event):
    slug: str
    name: str


@dataclass(frozen=True)
class ProductCreated(Event):
    product_id: UUID


@dataclass(frozen=True)
class ProductDetailsUpdated(Event):
    product_id: UUID


@dataclass(frozen=True)
class ProductArchived(Event):
    product_id: UUID


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


_SIGNALS = {event_type: Signal() for event_type in Event.__subclasses__()}


def signal_for(event_type):
    """Return the signal that carries events of ``event_type``."""
    return _SIGNALS[event_type]


def publish(event):
    """Append ``event`` to the event log, then send it to every receiver of its signal.

    Both happen in the caller's transaction; a receiver's error propagates and rolls back.
    """
    from products import outbox  # outbox imports this module for the event types

    outbox.append(event)
    signal_for(type(event)).send(sender=type(event), event=event)
