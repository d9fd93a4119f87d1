"""Events of categories."""

from dataclasses import dataclass

from cqrs_demo.bus import Event


@dataclass(frozen=True)
class CategoryCreated(Event):
    slug: str


@dataclass(frozen=True)
class CategoryRenamed(Event):
    slug: str
    name: str
