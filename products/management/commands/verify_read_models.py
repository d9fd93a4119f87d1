from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from products.read import rebuild


class Command(BaseCommand):
    help = (
        "Compare the read tables with what the write tables imply; exit 1 and list every "
        "difference when they differ. --repair fixes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix the differences found.")

    def handle(self, *args, repair=False, **options):
        with transaction.atomic():
            found = rebuild.differences()
            for difference in found:
                self.stdout.write(str(difference))
            if not found:
                self.stdout.write(self.style.SUCCESS("Read models match the write tables."))
                return
            if not repair:
                raise CommandError(f"{len(found)} difference(s) found; run with --repair to fix them.")
            rebuild.repair(found)
            remaining = rebuild.differences()
            if remaining:
                raise CommandError(f"{len(remaining)} difference(s) remain after the repair.")
        self.stdout.write(self.style.SUCCESS(f"Repaired {len(found)} difference(s)."))
