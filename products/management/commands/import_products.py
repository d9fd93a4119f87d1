import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from products.management.csv_format import ImportFormatError, import_products


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV file (upsert by SKU) through the command handlers. "
        "Header: sku,name,description,category,category_name,price,quantity (sku, name and price "
        "required). Bad rows are reported by line and skipped; good rows are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")
        parser.add_argument("--dry-run", action="store_true", help="Check every row, change nothing.")

    def handle(self, *args, file, dry_run=False, **options):
        try:
            with (
                open(file, newline="", encoding="utf-8-sig") as lines,
                tqdm(desc="rows", unit=" rows", file=sys.stderr, disable=None) as bar,
            ):
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
