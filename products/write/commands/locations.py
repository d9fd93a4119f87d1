"""Commands of locations: create one, change its name or whether it is active.

A location is never deleted (stock and its history will refer to it); one that is no
longer used is made inactive.
"""

from dataclasses import dataclass

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from cqrs_demo.bus import Command
from products import events
from products.errors import DuplicateLocationError, LocationNotFoundError
from products.write import representation
from products.write.commands.common import UNSET, constraint_name, lock_location
from products.write.event_log import publish
from products.write.models import Location


@dataclass(frozen=True)
class CreateLocation(Command):
    code: str
    name: str


@dataclass(frozen=True)
class ChangeLocation(Command):
    code: str
    name: object = UNSET
    is_active: object = UNSET


def create_location(command):
    """Create an active location; return its representation."""
    try:
        Location.objects.create(code=command.code, name=command.name)
    except IntegrityError as error:
        if constraint_name(error) == "location_code_format":
            raise  # the API and the admin validate the code first
        raise DuplicateLocationError(f"A location with code {command.code!r} already exists.") from None
    publish(events.LocationCreated(code=command.code))
    return representation.location(command.code)


def change_location(command):
    """Change a location's name and/or whether it is active; return its representation.

    A change of nothing (no field, or the values it has) writes nothing and publishes no event.
    """
    changes = {field: value for field in ("name", "is_active") if (value := getattr(command, field)) is not UNSET}
    if changes:
        lock_location(command.code)  # a statement of its own: the UPDATE below compares with the last change
        differs = Q()
        for field, value in changes.items():
            differs |= ~Q(**{field: value})
        if Location.objects.filter(differs, code=command.code).update(**changes, updated_at=timezone.now()):
            publish(events.LocationChanged(code=command.code))
    location = representation.location(command.code)
    if location is None:
        raise LocationNotFoundError("Location not found.")
    return location


HANDLERS = {
    CreateLocation: create_location,
    ChangeLocation: change_location,
}
