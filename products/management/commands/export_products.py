"""``manage.py export_products FILE``: the read side as CSV, streamed, importable again."""

import csv
import sys

from django.core.management.base import BaseCommand
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from products.events.stock import MAIN_LOCATION
from products.management.csv_format import EXPORT_COLUMNS
from products.read.models import ProductView, StockLevelView


class Command(BaseCommand):
    help = "Write the active products (the read side) as CSV that import_products accepts. FILE '-' is stdout."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file to write, or - for standard output.")

    def handle(self, *args, file, **options):
        out = sys.stdout if file == "-" else open(file, "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
            # A server-side cursor streams the rows, so memory stays flat however many there are.
            # The quantity at main, where import_products puts it (the file has no location column yet).
            at_main = StockLevelView.objects.filter(product_id=OuterRef("id"), location=MAIN_LOCATION).values(
                "quantity"
            )
            rows = (
                ProductView.objects.order_by("sku", "id")
                .annotate(at_main=Coalesce(Subquery(at_main.values("quantity")), 0))
                .values_list("sku", "name", "description", "category_slug", "category_name", "price", "at_main")
                .iterator(chunk_size=2000)
            )
            count = 0
            for sku, name, description, slug, category_name, price, quantity in rows:
                writer.writerow([sku, name, description, slug or "", category_name or "", price, quantity])
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"Exported {count} products.")
