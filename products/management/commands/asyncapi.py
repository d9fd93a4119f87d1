"""``manage.py asyncapi [--file docs/asyncapi.yaml]``: write the AsyncAPI document of the events."""

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand

from products.events import asyncapi


def render():
    """Return the AsyncAPI document of the events as YAML, for this deployment's exchange and topic."""
    document = asyncapi.document(exchange=settings.RABBITMQ_EXCHANGE, topic=settings.KAFKA_TOPIC)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


class Command(BaseCommand):
    help = (
        "Write the AsyncAPI 3.0 document of the events (docs/asyncapi.yaml: generated from the event "
        "declarations in products/events/) to --file, or to stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Write it to this file instead of stdout.")

    def handle(self, *args, file, **options):
        text = render()
        if file:
            with open(file, "w", encoding="utf-8") as out:
                out.write(text)
        else:
            self.stdout.write(text)
