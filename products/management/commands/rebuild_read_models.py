"""rebuild_read_models: rebuild every read table into new tables and swap them in, or replay the log."""

import time

from django.core.management.base import BaseCommand

from products.management.deployment_check import require_the_deployments_mode
from products.read import rebuild, worker


class Command(BaseCommand):
    help = (
        "Rebuild every read table from the write tables into new, unindexed tables (one INSERT ... SELECT "
        "each), index them, and swap them in: readers keep the old rows and wait only for the swap. "
        "--from-events replays the event log instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-events", action="store_true", help="Rebuild from the event log alone, not the write tables."
        )

    def handle(self, *args, from_events=False, **options):
        require_the_deployments_mode()
        started = time.perf_counter()
        if from_events:
            total = worker.rebuild_from_log(
                progress=lambda count: self.stdout.write(
                    f"replayed {count} events ({time.perf_counter() - started:.1f}s)"
                )
            )
            self.stdout.write(self.style.SUCCESS(f"Read models rebuilt from {total} events."))
            return

        def progress(step, total, label, count):
            unit = rebuild.UNITS.get(label, "rows")
            self.stdout.write(f"[{step}/{total}] {label}: {count} {unit} ({time.perf_counter() - started:.1f}s)")

        rebuild.rebuild_all(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Read models rebuilt in {time.perf_counter() - started:.1f}s."))
