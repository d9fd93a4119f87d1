"""verify_read_models: list every read row that differs from the write tables; --repair fixes them."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cqrs_demo.routers import read_store_alias
from products.read import rebuild


class Command(BaseCommand):
    help = (
        "Compare the read tables with what the write tables imply, streamed in ordered chunks; exit 1 "
        "and list every difference when they differ. --repair fixes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Fix the differences found.")
        parser.add_argument(
            "--chunk-size", type=int, default=rebuild.CHUNK, help="Rows read per round trip (default %(default)s)."
        )

    def handle(self, *args, repair=False, chunk_size=rebuild.CHUNK, **options):
        with transaction.atomic(), transaction.atomic(using=read_store_alias()):
            found = rebuild.verify(lambda difference: self.stdout.write(str(difference)), repair, chunk_size)
        if not found:
            self.stdout.write(self.style.SUCCESS("Read models match the write tables."))
            return
        if not repair:
            raise CommandError(f"{found} difference(s) found; run with --repair to fix them.")
        with transaction.atomic(), transaction.atomic(using=read_store_alias()):
            remaining = rebuild.verify(lambda difference: None, chunk_size=chunk_size)
        if remaining:
            raise CommandError(f"{remaining} difference(s) remain after the repair.")
        self.stdout.write(self.style.SUCCESS(f"Repaired {found} difference(s)."))
