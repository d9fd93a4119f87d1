"""docs/asyncapi.yaml is the document the event declarations generate; a change to an event without
the regenerated file fails here, as in `.ci/check-asyncapi` (which also runs the AsyncAPI parser)."""

from pathlib import Path

import yaml
from django.core.management import call_command

from products import events
from products.management.commands.asyncapi import render

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
UPDATE = "scripts/manage asyncapi --file docs/asyncapi.yaml"


def test_the_committed_document_is_the_generated_one(settings, tmp_path):
    # The committed document is for the default settings.
    settings.RABBITMQ_EXCHANGE = settings.KAFKA_TOPIC = "inventory.events"
    generated = tmp_path / "asyncapi.yaml"

    call_command("asyncapi", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), f"docs/asyncapi.yaml is out of date: run {UPDATE}"


def test_both_channels_carry_one_message_per_event_type_named_as_the_type():
    document = yaml.safe_load(COMMITTED.read_text())
    names = [event_type.__name__ for event_type in events.EVENT_TYPES]

    assert document["asyncapi"].startswith("3.0.")
    assert list(document["components"]["messages"]) == names
    assert {name: message["name"] for name, message in document["components"]["messages"].items()} == dict(
        zip(names, names, strict=True)
    )
    for channel in ("rabbitmq", "kafka"):
        assert list(document["channels"][channel]["messages"]) == names
    assert document["channels"]["rabbitmq"]["address"] == document["channels"]["kafka"]["address"] == "inventory.events"
    assert document["channels"]["rabbitmq"]["bindings"]["amqp"]["exchange"]["type"] == "topic"


def test_a_channel_is_named_after_the_settings(settings):
    settings.RABBITMQ_EXCHANGE, settings.KAFKA_TOPIC = "shop.events", "shop-events"

    document = yaml.safe_load(render())
    assert (document["channels"]["rabbitmq"]["address"], document["channels"]["kafka"]["address"]) == (
        "shop.events",
        "shop-events",
    )
