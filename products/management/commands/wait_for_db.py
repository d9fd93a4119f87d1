"""Wait until the database accepts connections (containers start before their database)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections


class Command(BaseCommand):
    help = "Wait until the database accepts connections; exit 1 when --timeout runs out."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60, help="Seconds to keep trying (default 60).")
        parser.add_argument("--interval", type=float, default=1, help="Seconds between attempts (default 1).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")

    def handle(self, *args, timeout, interval, database, **options):
        """Retry the connection until it works or the timeout runs out."""
        connection = connections[database]
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
            except OperationalError as error:
                reason = (str(error).strip() or type(error).__name__).splitlines()[0]
                if time.monotonic() + interval > deadline:
                    raise CommandError(f"Database unreachable after {timeout:g}s: {reason}") from None
                self.stderr.write(f"Database unavailable ({reason}); retrying in {interval:g}s.")
                time.sleep(interval)
            else:
                self.stdout.write("Database available.")
                return
