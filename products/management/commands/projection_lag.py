"""``manage.py projection_lag``: how far the read store is behind the event log, as JSON."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from products.read import worker


class Command(BaseCommand):
    help = "Print how far the read store is behind the event log (events and seconds) as JSON."

    def handle(self, *args, **options):
        if settings.CQRS_MODE != "split":
            self.stdout.write(json.dumps({"mode": "single", "events_behind": 0, "seconds_behind": 0.0}))
            return
        self.stdout.write(json.dumps({"mode": "split", **worker.lag()}))
