import time

from django.core.management.base import BaseCommand

from products.read import rebuild, worker


class Command(BaseCommand):
    help = (
        "Rebuild every read table from the write tables in one transaction, set-based. "
        "Readers keep seeing the old rows until it commits. --from-events replays the event log instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from-events", action="store_true", help="Rebuild from the event log alone, not the write tables."
        )

    def handle(self, *args, from_events=False, **options):
        started = time.perf_counter()
        if from_events:
            total = worker.rebuild_from_log(
                progress=lambda count: self.stdout.write(
                    f"replayed {count} events ({time.perf_counter() - started:.1f}s)"
                )
            )
            self.stdout.write(self.style.SUCCESS(f"Read models rebuilt from {total} events."))
            return

        def progress(step, total, label, rows):
            self.stdout.write(f"[{step}/{total}] {label}: {rows} rows ({time.perf_counter() - started:.1f}s)")

        rebuild.rebuild_all(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Read models rebuilt in {time.perf_counter() - started:.1f}s."))
