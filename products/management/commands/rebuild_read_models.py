import time

from django.core.management.base import BaseCommand
from django.db import transaction

from products import projections


class Command(BaseCommand):
    help = (
        "Rebuild every read table from the write tables in one transaction, set-based. "
        "Readers keep seeing the old rows until it commits."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()

        def progress(step, total, label, rows):
            self.stdout.write(f"[{step}/{total}] {label}: {rows} rows ({time.perf_counter() - started:.1f}s)")

        with transaction.atomic():
            projections.rebuild(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Read models rebuilt in {time.perf_counter() - started:.1f}s."))
