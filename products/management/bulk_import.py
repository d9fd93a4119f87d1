"""Bulk import of the CSV format: stream checked rows into one ``BulkImportProducts`` command.

The file is read once, row by row, and never held in memory: each row is checked by the
API's rules (``csv_format.validate``, with a fast path for rows that plainly follow them),
and good rows stream on into the command's COPY. Bad rows are reported by line, as the
row-by-row import reports them. ``import_products`` uses this above ``BULK_THRESHOLD``
rows (or with ``--bulk``); ``seed_products`` always does.
"""

import csv
import re
from itertools import islice

from django.db import transaction

from cqrs_demo.bus import bus
from products.management.csv_format import ImportReport, check_columns, describe, validate
from products.write import commands
from products.write.models import MAIN_LOCATION, MAX_QUANTITY

BULK_THRESHOLD = 5000  # rows; at and below it, import_products goes row by row
PROGRESS_EVERY = 1000  # rows between progress callbacks
OPTIONAL_COLUMNS = frozenset({"description", "category"})  # absent: left alone on existing products

# Rows these match are accepted by ImportRowSerializer unchanged (apart from trimming names and descriptions);
# anything else goes through the serializer itself, for its exact verdict and messages.
_SKU = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")
_PRICE = re.compile(r"[0-9]{1,8}(\.[0-9]{1,2})?")
_QUANTITY = re.compile(r"[0-9]{1,10}")
_LOCATION = re.compile(r"[a-z0-9_-]{1,32}")
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def count_rows(lines, limit):
    """Return the number of data rows of a CSV file, counting no further than ``limit``."""
    return sum(1 for row in islice(csv.reader(lines), 1, limit + 1) if row)


def _text(value, limit, *, blank=True):
    value = value.strip()
    if (value or blank) and len(value) <= limit and not _UNSAFE.search(value):
        return value
    return None


def _plain_row(cells, at):
    """Return the staged cells of a row that plainly follows the rules, or None to ask the serializer."""
    sku, price = cells[at["sku"]], cells[at["price"]]
    name = _text(cells[at["name"]], 200, blank=False)
    if name is None or not _SKU.fullmatch(sku) or not _PRICE.fullmatch(price):
        return None
    description = category = category_name = quantity = None
    location = MAIN_LOCATION
    if "location" in at and (cell := cells[at["location"]]):
        if not _LOCATION.fullmatch(cell):
            return None
        location = cell
    if "description" in at and (description := _text(cells[at["description"]], 5000)) is None:
        return None
    if "category" in at:
        category = cells[at["category"]] or None
        if category is not None and not _SLUG.fullmatch(category):
            return None
    if "category_name" in at and (category_name := _text(cells[at["category_name"]], 100)) is None:
        return None
    if (
        "quantity" in at
        and (quantity := cells[at["quantity"]])
        and (not _QUANTITY.fullmatch(quantity) or int(quantity) > MAX_QUANTITY)
    ):
        return None
    return (sku, name, description, category, category_name, price, quantity or None, location)


def _checked_row(cells, header):
    """Check a row with the serializer, as DictReader would give it; return (staged cells, problem)."""
    row = dict(zip(header, cells, strict=False))
    if len(cells) > len(header):
        row[None] = cells[len(header) :]
    row.update({name: None for name in header[len(cells) :]})
    data, problem = validate(row)
    if problem:
        return None, problem
    return (
        data["sku"],
        data["name"],
        data.get("description"),
        data.get("category") or None,
        data.get("category_name"),
        str(data["price"]),
        data.get("quantity"),
        data["location"],
    ), None


def checked_rows(reader, header, problems, progress=None):
    """Yield ``(line, *staged cells)`` of the good rows of ``reader``; append (line, problem) of bad ones.

    Lines are counted as the row-by-row import counts them (from csv.DictReader's ``line_num``).
    """
    at = {name: index for index, name in enumerate(header)}
    width, line, seen = len(header), 1, 0
    for cells in reader:
        if not cells:  # DictReader skips empty rows
            continue
        first_line, line = line + 1, reader.line_num
        staged = _plain_row(cells, at) if len(cells) == width else None
        if staged is None:
            staged, problem = _checked_row(cells, header)
            if problem:
                problems.append((first_line, problem))
        if staged is not None:
            yield (first_line, *staged)
        seen += 1
        if progress and seen % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress:
        progress(seen % PROGRESS_EVERY)


def load(rows, columns, *, dry_run=False):
    """Dispatch one BulkImportProducts of ``rows``; with ``dry_run`` roll it back. Return its result."""
    with transaction.atomic():
        result = bus.dispatch(commands.BulkImportProducts(rows=rows, columns=frozenset(columns) & OPTIONAL_COLUMNS))
        if dry_run:
            transaction.set_rollback(True)
    return result


def import_products_bulk(lines, *, dry_run=False, progress=None):
    """Import CSV ``lines`` as one command; bad rows are reported by line and skipped."""
    reader = csv.reader(lines)
    header = next(reader, None)
    columns = check_columns(header)
    problems = []
    result = load(checked_rows(reader, header, problems, progress), columns, dry_run=dry_run)
    refused = [(line, describe(error)) for line, error in result.errors]
    return ImportReport(
        created=result.created, updated=result.updated, unchanged=result.unchanged, errors=sorted(problems + refused)
    )
