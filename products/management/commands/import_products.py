"""import_products: create or update products from a CSV file, row by row or in bulk."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from products.management.bulk_import import BULK_THRESHOLD, count_rows, import_products_bulk
from products.management.csv_format import ImportFormatError, import_products
from products.management.deployment_check import require_the_deployments_mode


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV file (upsert by SKU). "
        "Header: sku,name,description,category,category_name,price,location,quantity (sku, name and price "
        "required; quantity is the stock at location, default main, and a SKU may have a row per location). "
        "Bad rows are reported by line and skipped; good rows are kept. Files of more than "
        f"{BULK_THRESHOLD:,} rows are loaded in bulk (one command: COPY and set-based statements), "
        "smaller ones row by row through the command handlers; --bulk and --no-bulk choose."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, change nothing.")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--bulk", action="store_true", default=None, help="Load in bulk, however many rows the file has."
        )
        mode.add_argument(
            "--no-bulk", dest="bulk", action="store_false", help="Go row by row, however many rows the file has."
        )

    def handle(self, *args, file, dry_run=False, bulk=None, **options):
        require_the_deployments_mode()
        try:
            with open(file, newline="", encoding="utf-8-sig") as lines:
                if bulk is None:
                    bulk = count_rows(lines, BULK_THRESHOLD + 1) > BULK_THRESHOLD
                    lines.seek(0)
                with tqdm(desc="rows", unit=" rows", file=sys.stderr, disable=None) as bar:
                    if bulk:
                        report = import_products_bulk(lines, dry_run=dry_run, progress=bar.update)
                    else:
                        report = import_products(lines, dry_run=dry_run, on_row=bar.update)
        except (OSError, UnicodeDecodeError, ImportFormatError) as error:
            raise CommandError(f"{file}: {error}") from error
        for line, message in report.errors:
            self.stdout.write(f"line {line}: {message}")
        verb = "would be" if dry_run else "were"
        summary = (
            f"{report.created} {verb} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.errors)} rejected."
        )
        if report.errors:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
