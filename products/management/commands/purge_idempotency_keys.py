"""``manage.py purge_idempotency_keys``: delete idempotency keys older than their time to live."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.http.idempotency import purge


class Command(BaseCommand):
    help = "Delete idempotency keys older than the retention period (IDEMPOTENCY_KEY_TTL_HOURS, default 24)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-hours", type=int, default=None, help="Override the retention period.")

    def handle(self, *args, older_than_hours=None, **options):
        hours = settings.IDEMPOTENCY_KEY_TTL_HOURS if older_than_hours is None else older_than_hours
        if hours < 24:
            raise CommandError("Keys are kept at least 24 hours; --older-than-hours must be >= 24.")
        deleted = purge(timedelta(hours=hours))
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} idempotency key(s) older than {hours} hours."))
