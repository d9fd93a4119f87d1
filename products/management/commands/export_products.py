"""``manage.py export_products FILE``: the read side as CSV, streamed, importable again.

One row per product and location that holds a stock row for it (main first, then the others
by code), the product's columns repeated on each; a product with no stock row at all gets
one row at main with an empty quantity (which leaves the stock alone when imported).
"""

import csv
import sys

from django.core.management.base import BaseCommand
from django.db import connections

from cqrs_demo.routers import read_query_alias
from products.events.stock import MAIN_LOCATION
from products.management.csv_format import EXPORT_COLUMNS
from products.read.tables import PRODUCTS, STOCK_LEVELS

CHUNK_ROWS = 2000  # rows per round trip of the server-side cursor

ROWS_SQL = f"""
    SELECT p.sku, p.name, p.description, coalesce(p.category_slug, ''), coalesce(p.category_name, ''), p.price,
           coalesce(s.location, %(main)s), s.quantity
      FROM {PRODUCTS.name} p LEFT JOIN {STOCK_LEVELS.name} s ON s.product_id = p.id
     ORDER BY p.sku, p.id, s.location <> %(main)s, s.location
"""


class Command(BaseCommand):
    help = (
        "Write the active products (the read side) as CSV that import_products accepts, a row per product "
        "and location that holds stock for it. FILE '-' is stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the CSV file to write, or - for standard output.")

    def handle(self, *args, file, **options):
        out = sys.stdout if file == "-" else open(file, "w", newline="", encoding="utf-8")  # noqa: SIM115
        products = rows = 0
        try:
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
            # A server-side cursor streams the rows, so memory stays flat however many there are.
            with connections[read_query_alias()].chunked_cursor() as cursor:
                cursor.execute(ROWS_SQL, {"main": MAIN_LOCATION})
                last_sku = None
                while chunk := cursor.fetchmany(CHUNK_ROWS):
                    writer.writerows(chunk)  # a None quantity is written empty
                    rows += len(chunk)
                    for sku, *_ in chunk:
                        products += sku != last_sku
                        last_sku = sku
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"Exported {products} products in {rows} rows.")
