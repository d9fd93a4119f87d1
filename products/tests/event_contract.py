"""Check events against their published contract: the messages of docs/asyncapi.yaml.

Each event of the log is checked as a consumer receives it: its message body (the envelope
around its payload) and its headers, against the message named as its type.
"""

import functools
from pathlib import Path

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from products.write.event_log import headers_of, message_of
from products.write.models import EventRecord

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
_URI = "urn:inventory:asyncapi"  # the document's name in the registry its $refs resolve in


@functools.cache
def _registry():
    document = yaml.safe_load(DOCUMENT.read_text())
    return Registry().with_resource(_URI, Resource.from_contents(document, default_specification=DRAFT7))


@functools.cache
def validator(message, part):
    """Return the validator of ``part`` ("payload" or "headers") of the message named ``message``."""
    return Draft7Validator({"$ref": f"{_URI}#/components/messages/{message}/{part}"}, registry=_registry())


def errors(message, body, headers):
    """Return what is wrong with a message ``body`` and its ``headers`` for the message named ``message``."""
    found = []
    for part, instance in (("payload", body), ("headers", headers)):
        for error in validator(message, part).iter_errors(instance):
            where = "/".join(str(step) for step in error.absolute_path) or "(root)"
            found.append(f"{part} at {where}: {error.message}")
    if body.get("schema_version") != headers.get("schema_version"):
        found.append(f"the schema_version header ({headers.get('schema_version')}) is not the body's")
    return found


def check_events_after(event_id):
    """Raise AssertionError for each event after ``event_id`` in the log that breaks its message's schema."""
    broken = []
    for record in EventRecord.objects.filter(id__gt=event_id).order_by("id"):
        for error in errors(record.type, message_of(record), headers_of(record)):
            broken.append(f"event {record.id} ({record.type}): {error}")
    assert not broken, "Events that break docs/asyncapi.yaml:\n" + "\n".join(broken)


def last_event_id():
    return EventRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0
