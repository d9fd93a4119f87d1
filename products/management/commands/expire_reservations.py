"""``manage.py expire_reservations [--follow]``: record lapsed reservations as expired.

Reads never need it: from its ``expires_at`` on, a reservation holds nothing and reads as
``expired``. This records the lapse (status ``expired``, a ``ReservationExpired`` event each,
for the relay's consumers) and tidies the lines; in the compose file it runs as a service.
"""

import time

from django.core.management.base import BaseCommand

from cqrs_demo.bus import bus
from products.management.deployment_check import require_the_deployments_mode
from products.management.stopping import stop_requested
from products.write import commands


class Command(BaseCommand):
    help = (
        "Record the active reservations whose time is up as expired, with an event each. With --follow, "
        "keep doing it until stopped (SIGTERM or Ctrl-C finish the current batch first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="Keep running and expire new lapses.")
        parser.add_argument("--batch-size", type=int, default=500, help="Reservations per transaction.")
        parser.add_argument("--poll-interval", type=float, default=5.0, help="Seconds between polls when idle.")

    def handle(self, *args, follow, batch_size, poll_interval, **options):
        require_the_deployments_mode()
        should_stop = stop_requested()
        total = 0
        while not should_stop():
            expired = bus.dispatch(commands.ExpireReservations(limit=batch_size))
            total += expired
            if expired:
                self.stdout.write(f"expired {expired} reservations ({total} in all)")
            if expired < batch_size:
                if not follow:
                    break
                time.sleep(poll_interval)
        self.stdout.write(self.style.SUCCESS(f"Expired {total} reservations."))
