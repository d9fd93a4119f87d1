"""``manage.py deployment_mode [--check | --set single|split]``: the mode the write database serves."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from products.write import deployment

_AFTER_SPLIT = (
    "Now: migrate the read database if it is new (`manage.py migrate --database read`); run "
    "`manage.py project_events --follow` with this READ_DATABASE_URL (from its position, or from the "
    "start of the event log for a new read database; `rebuild_read_models` copies the write tables "
    "instead); set this READ_DATABASE_URL in every API process and restart them. Until then, the "
    "processes without it answer 503 on /health/ready and refuse to start."
)
_AFTER_SINGLE = (
    "Now: run `manage.py rebuild_read_models` without READ_DATABASE_URL (the read tables of this "
    "write database missed the writes made in split mode); stop `project_events`; unset "
    "READ_DATABASE_URL in every API process and restart them. Until then, the processes that "
    "still have it answer 503 on /health/ready and refuse to start."
)


class Command(BaseCommand):
    help = (
        "Show the mode the write database serves (single-database, or split with the read database its "
        "event log feeds) and whether this process's settings agree. --check records this process's mode "
        "when none is recorded yet and exits 1 when they disagree (the container entrypoint runs it before "
        "gunicorn); --set single|split switches the deployment to the mode of this process's settings."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--check", action="store_true", help="Record this process's mode if none is; exit 1 on a mismatch."
        )
        action.add_argument(
            "--set",
            choices=["single", "split"],
            dest="new_mode",
            help="Switch the deployment to this mode, which must be the mode of this process's settings.",
        )

    def handle(self, *args, check=False, new_mode=None, **options):
        if not deployment.is_recordable():
            message = "The write database's migrations are pending: no mode is recorded yet."
            if check:
                # A one-off migration job (SKIP_MIGRATE) may still be running: /health/ready checks later.
                self.stderr.write(f"{message} /health/ready compares once they are applied.")
                return
            raise CommandError(f"{message} Run `manage.py migrate` first.")
        try:
            if new_mode:
                self._switch(new_mode)
            elif check:
                self.stdout.write(f"This write database serves {deployment.check()}; this process agrees.")
            else:
                self._show()
        except deployment.ModeMismatch as mismatch:
            raise CommandError(str(mismatch)) from None

    def _show(self):
        recorded = deployment.recorded()
        mine = deployment.this_process()
        self.stdout.write(f"This process's settings give {mine}.")
        if recorded is None:
            self.stdout.write("No mode is recorded yet: the first API process to start records its own.")
            return
        self.stdout.write(f"This write database serves {recorded}.")
        deployment.check()  # raises the mismatch, with what to change
        self.stdout.write("They agree.")

    def _switch(self, mode):
        previous = deployment.switch(mode)
        current = deployment.recorded()
        if previous == current:
            self.stdout.write(f"This write database already serves {current}: nothing changed.")
            return
        self.stdout.write(f"This write database now serves {current} (it served {previous or 'no recorded mode'}).")
        self.stdout.write(_AFTER_SPLIT if settings.CQRS_MODE == "split" else _AFTER_SINGLE)
