"""``manage.py project_events [--follow]``: run the split-mode worker, the event log into the read database."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.events import feed
from products.management.stopping import stop_requested
from products.read import worker
from products.write import deployment


class Command(BaseCommand):
    help = (
        "Apply the event log to the separate read database (split mode): everything committed so far, "
        "then exit. With --follow, keep applying new events until stopped (SIGTERM or Ctrl-C finish "
        "the current batch first). One worker at a time: with --follow a second one waits for the feed and "
        "takes over when the first stops; without it, a second one exits (status 0) saying another holds it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="Keep running and apply new events.")
        parser.add_argument("--batch-size", type=int, default=5000, help="About this many events per transaction.")
        parser.add_argument("--poll-interval", type=float, default=0.5, help="Seconds between polls when idle.")

    def handle(self, *args, follow, batch_size, poll_interval, **options):
        if settings.CQRS_MODE != "split":
            raise CommandError(
                "Single-database mode: the projector runs inside each command's transaction. "
                "Set READ_DATABASE_URL to use a separate read store."
            )
        try:
            # Feeding a read database that the deployment's API processes do not read is wasted work.
            deployment.check()
        except deployment.ModeMismatch as mismatch:
            raise CommandError(str(mismatch)) from None
        should_stop = stop_requested()
        try:
            total = self._run(follow, batch_size, poll_interval, should_stop)
        except feed.FeedUnavailable as unavailable:
            raise CommandError(str(unavailable)) from None
        except worker.FeedBusy as busy:
            # Not a failure: the events get applied, by the worker that holds the feed.
            self.stdout.write(str(busy))
            return
        self.stdout.write(self.style.SUCCESS(f"Applied {total} events; lag: {worker.lag()}."))

    def _run(self, follow, batch_size, poll_interval, should_stop):
        return worker.run(
            follow=follow,
            batch_size=batch_size,
            poll_interval=poll_interval,
            on_batch=lambda applied, total: self.stdout.write(f"applied {applied} events ({total} in all)"),
            should_stop=should_stop,
        )
