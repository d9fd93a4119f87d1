"""``manage.py projection_lag``: how far the read store and each outbox relay are behind the event log, as JSON."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from products.read import worker
from products.write import relay


class Command(BaseCommand):
    help = (
        "Print how far the read store (events, seconds and bytes of WAL) and each relay that has run "
        "(under relays, by broker: events and bytes of WAL) are behind the event log, as JSON."
    )

    def handle(self, *args, **options):
        if settings.CQRS_MODE != "split":
            lag = {"mode": "single", "events_behind": 0, "seconds_behind": 0.0}
        else:
            lag = {"mode": "split", **worker.lag()}
        self.stdout.write(json.dumps({**lag, "relays": relay.lags()}))
