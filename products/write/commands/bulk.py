"""Bulk loading: upsert many products by SKU in one command, with COPY and set-based statements.

``BulkImportProducts`` does what importing the rows one by one through ``CreateProduct``,
``UpdateProductDetails``, ``SetStock`` and ``CreateCategory`` does, in the one transaction
the bus opens, in a number of statements that does not grow with the rows: the rows are
streamed into a TEMP staging table with ``COPY``, then every step (checks, categories,
products, stock, ledger, event log, read rows) is one statement over all of them
(``bulk_sql``). Rows the domain refuses (an archived SKU, an unknown category) are returned
by line and skipped. Unchanged products get no write, no event and no ledger row, so
loading the same rows twice changes nothing.

Each row names a location: its quantity is the stock there. Each product gets the events
the row-by-row path appends, with the same payloads: a ``ProductCreated`` (its opening stock
at main) or a ``ProductDetailsUpdated``, then a ``StockSet`` per location whose stock the
rows change, in the rows' order. A SKU repeated in the rows gets its details once, from its
last row, and its stock once per location, from the last quantity given there (the
row-by-row path applies each row in turn and ends in the same state, with events per row).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from django.db import DEFAULT_DB_ALIAS, connection
from django.utils import timezone

from cqrs_demo.bus import Command
from cqrs_demo.routers import read_store_alias
from products.errors import (
    ArchivedSkuError,
    InactiveLocationError,
    InsufficientStockError,
    UnknownCategoryError,
    UnknownLocationError,
)
from products.write.commands import bulk_events_sql, bulk_sql
from products.write.commands.common import lock_catalogue
from products.write.models import MAIN_LOCATION

_CHUNK_ROWS = 5000
# How a row's COPY line ends, by its length: a row that ends at the quantity is at main.
_AT_MAIN = {len(bulk_sql.STAGED_COLUMNS): "\n", len(bulk_sql.STAGED_COLUMNS) - 1: f"\t{MAIN_LOCATION}\n"}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


@dataclass(frozen=True)
class BulkImportProducts(Command):
    """Create or update products by SKU (case-insensitively) from validated rows.

    ``rows`` yields ``(line, sku, name, description, category, category_name, price,
    quantity[, location])`` tuples whose cells already follow the API's rules (see
    ``products.management.csv_format``; ``location`` is a location's code, ``main`` when the
    tuple ends at the quantity); it is consumed once, as it streams into COPY.
    ``columns`` names the optional columns the rows carry ("description", "category"): an
    absent one leaves existing products' value alone. A ``None`` quantity leaves the stock alone.
    """

    rows: Iterable = field(compare=False)
    columns: frozenset = frozenset({"description", "category"})


@dataclass
class BulkImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)  # (line, DomainError), by line


def _copy_value(value):
    if value is None:
        return "\\N"
    text = str(value)
    # Most cells need no escape: looking costs a fifth of translating.
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _plain_chunk(chunk):
    """Return ``chunk`` in COPY's text format if no cell needs an escape, else None.

    Each cell is joined as it is (None as \\N), then the separators are counted: a cell with a
    tab, a line break or a backslash adds one that the rows' shape does not account for.
    Checking a chunk at once costs a third of checking each cell.
    """
    text = "".join(["\t".join(["\\N" if v is None else str(v) for v in row]) + _AT_MAIN[len(row)] for row in chunk])
    tabs = sum(len(row) - (_AT_MAIN[len(row)] == "\n") for row in chunk)
    nulls = sum(row.count(None) for row in chunk)
    plain = (
        text.count("\t") == tabs and text.count("\n") == len(chunk) and text.count("\\") == nulls and "\r" not in text
    )
    return text if plain else None


def _copy_chunks(rows):
    """Yield ``rows`` in COPY's text format, a chunk of rows at a time."""
    rows = iter(rows)
    while chunk := list(islice(rows, _CHUNK_ROWS)):
        text = _plain_chunk(chunk)
        if text is None:
            text = "".join("\t".join(map(_copy_value, row)) + _AT_MAIN[len(row)] for row in chunk)
        yield text


class _CopyStream:
    """A file-like view of ``rows`` in COPY's text format (psycopg2's ``copy_expert`` reads it)."""

    def __init__(self, rows):
        self._chunks = _copy_chunks(rows)

    def read(self, size=-1):
        return next(self._chunks, "")

    readline = read


def _copy_rows(cursor, rows):
    """Stream ``rows`` into the staging table with COPY, on psycopg 2 or 3 (Django uses 3 when installed)."""
    if hasattr(cursor.cursor, "copy_expert"):
        cursor.cursor.copy_expert(bulk_sql.COPY, _CopyStream(rows))
        return
    with cursor.cursor.copy(bulk_sql.COPY) as copy:
        for text in _copy_chunks(rows):
            copy.write(text)


def _refusal(kind, sku, category, location, quantity, held):
    if kind == "held":  # as SetStock words it
        return InsufficientStockError(f"Reservations hold {held} at {location}; the stock cannot be set to {quantity}.")
    if kind == "archived":
        return ArchivedSkuError(sku)
    if kind == "location":
        return UnknownLocationError(f"Location {location!r} does not exist.")
    if kind.startswith("inactive"):  # a new product's opening stock, or a change of its stock
        return InactiveLocationError(
            f"Location {location!r} is inactive: an inactive location takes no new stock.",
            field="initial_stock" if kind == "inactive new" else "location",
        )
    return UnknownCategoryError(f"Category {category!r} does not exist.")


def bulk_import_products(command):
    """Load the rows; return the counts of products created, updated, unchanged, and the refused rows."""
    now = timezone.now()
    params = {
        "now": now,
        "has_description": "description" in command.columns,
        "has_category": "category" in command.columns,
    }
    steps = [
        *bulk_sql.CATEGORIES_SQL,
        bulk_sql.CATEGORY_EVENTS_SQL,
        *bulk_sql.ITEMS_SQL,
        bulk_sql.LOCK_PRODUCTS_SQL,
        # Details before stock, as the row-by-row path orders them: each event's payload is
        # the state it left, so a product changed in both gets version + 1, then + 2.
        bulk_sql.UPDATE_DETAILS_SQL,
        bulk_sql.ANALYZE_PRODUCTS,
        bulk_events_sql.DETAILS_EVENTS_SQL,
        *bulk_sql.CREATE_SQL,
        *bulk_events_sql.NEW_PRODUCTS_SQL,
        # Then the stock the rows set, at each location: after the event that opened the product.
        bulk_sql.LOCK_STOCK_CHANGES_SQL,
        bulk_sql.ANALYZE_PRODUCTS,
        *bulk_sql.SET_STOCK_SQL,
        *bulk_events_sql.STOCK_EVENTS_SQL,
    ]
    # Before anything gets a transaction id: no category rename interleaves with the import.
    lock_catalogue()
    with connection.cursor() as cursor:
        cursor.execute(bulk_sql.STAGE)
        _copy_rows(cursor, command.rows)
        cursor.execute(bulk_sql.ANALYZE_ROWS)
        cursor.execute(bulk_sql.LOCK_LOCATIONS)
        params["any_inactive"] = not all(takes_stock for (takes_stock,) in cursor.fetchall())
        # The products' rows before what is held is read (``rules.LOCK_ORDER``).
        cursor.execute(bulk_sql.LOCK_NAMED_PRODUCTS_SQL, params)
        for statement in bulk_sql.HOLDS_SQL:
            cursor.execute(statement)
        params["any_held"] = cursor.fetchone()[0]
        for statement in steps:
            cursor.execute(statement, params)
        cursor.execute(bulk_sql.ERRORS_SQL)
        errors = [(line, _refusal(*refused)) for line, *refused in cursor.fetchall()]
        cursor.execute(bulk_sql.COUNTS_SQL)
        created, updated, unchanged = cursor.fetchone()
    # In split mode the projector worker applies the events appended above instead.
    if read_store_alias() == DEFAULT_DB_ALIAS:
        with connection.cursor() as cursor:
            for statement in bulk_events_sql.PROJECTION:
                cursor.execute(statement, params)
    return BulkImportResult(created=created, updated=updated, unchanged=unchanged, errors=errors)


HANDLERS = {BulkImportProducts: bulk_import_products}
