"""The projector: keep the read tables equal to what the write tables imply.

Every projection recomputes rows from the write tables with one set-based statement, so
it is idempotent, and a rebuild is the same statement run without a filter. In the
default single-database mode the receivers below run inside the command's transaction:
the read side changes exactly when the write does.

In split mode (a separate read database) the receivers are not connected; the worker in
``event_projector`` feeds the read store from the event log, and the functions here
(rebuild, differences, repair) copy rows across the two databases instead.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg2.extras import execute_values

from cqrs_demo.routers import read_store_alias
from products import events
from products.events import signal_for
from products.read_models import ProjectorPosition

PROJECTOR_POSITION = "read_store"  # the ProjectorPosition row of the split-mode worker

# Search document: punctuation inside words (HT-001, v2.5, snake_case) is split so each
# part is a searchable word. ``{sku}`` etc. are SQL expressions.
SEARCH_DOCUMENT_SQL = "to_tsvector('simple', translate({sku} || ' ' || {name} || ' ' || {description}, '-._/', '    '))"

PRODUCT_COLUMNS = (
    "id",
    "sku",
    "name",
    "description",
    "category_slug",
    "category_name",
    "price",
    "quantity",
    "in_stock",
    "version",
    "created_at",
    "updated_at",
    "search_document",
)

# The read row of each active product, computed from the write tables. ``{where}`` narrows it.
EXPECTED_PRODUCTS_SQL = (
    """
    SELECT p.id, p.sku, p.name, p.description, c.slug AS category_slug, c.name AS category_name,
           p.price, s.quantity, s.quantity > 0 AS in_stock, p.version, p.created_at, p.updated_at,
           """
    + SEARCH_DOCUMENT_SQL.format(sku="p.sku", name="p.name", description="p.description")
    + """ AS search_document
      FROM products_product p
      JOIN products_stocklevel s ON s.product_id = p.id
      LEFT JOIN products_category c ON c.id = p.category_id
     WHERE NOT p.is_archived AND ({where})
"""
)

MOVEMENT_COLUMNS = ("id", "product_id", "delta", "quantity_after", "reason", "created_at")

EXPECTED_MOVEMENTS_SQL = """
    SELECT m.id, m.product_id, m.delta, m.quantity_after, m.reason, m.created_at
      FROM products_stockmovement m
      JOIN products_product p ON p.id = m.product_id
     WHERE NOT p.is_archived AND ({where})
"""

EXPECTED_CATEGORIES_SQL = """
    SELECT c.slug, c.name, c.created_at, c.updated_at FROM products_category c WHERE ({where})
"""

CATEGORY_COLUMNS = ("slug", "name", "created_at", "updated_at")


@dataclass(frozen=True)
class ReadTable:
    """A read table, and how its rows follow from the write tables."""

    name: str
    key: str
    columns: tuple
    expected_sql: str  # SELECT of the expected rows, ``{where}`` to be filled in
    on_conflict: str


def _replace_all(key, columns):
    return f"ON CONFLICT ({key}) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)


CATEGORIES = ReadTable(
    "read_category", "slug", CATEGORY_COLUMNS, EXPECTED_CATEGORIES_SQL, _replace_all("slug", CATEGORY_COLUMNS)
)
PRODUCTS = ReadTable("read_product", "id", PRODUCT_COLUMNS, EXPECTED_PRODUCTS_SQL, _replace_all("id", PRODUCT_COLUMNS))
MOVEMENTS = ReadTable(
    "read_stock_movement", "id", MOVEMENT_COLUMNS, EXPECTED_MOVEMENTS_SQL, "ON CONFLICT (id) DO NOTHING"
)
READ_TABLES = (PRODUCTS.name, MOVEMENTS.name, CATEGORIES.name)
_COPY_PAGE = 2000


def _execute(sql, params=(), using=None):
    with connections[using or read_store_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def project(table, where="TRUE", params=()):
    """Insert or refresh the read rows of ``table`` whose write rows match ``where``.

    With the read tables beside the write tables this is one INSERT ... SELECT; with a
    separate read database the expected rows are streamed across in pages.
    """
    columns = ", ".join(table.columns)
    expected = table.expected_sql.format(where=where)
    target = read_store_alias()
    if target == DEFAULT_DB_ALIAS:
        return _execute(f"INSERT INTO {table.name} ({columns}) {expected} {table.on_conflict}", params)
    insert = f"INSERT INTO {table.name} ({columns}) VALUES %s {table.on_conflict}"
    copied = 0
    with connections[DEFAULT_DB_ALIAS].chunked_cursor() as source, connections[target].cursor() as sink:
        source.execute(expected, params)
        while rows := source.fetchmany(_COPY_PAGE):
            execute_values(sink.cursor, insert, rows, page_size=_COPY_PAGE)
            copied += len(rows)
    return copied


def project_products(where="TRUE", params=()):
    """Insert or refresh the read rows of the active products matching ``where``."""
    return project(PRODUCTS, where, params)


def project_movements(where="TRUE", params=()):
    """Copy the ledger rows matching ``where`` of active products to the read side."""
    return project(MOVEMENTS, where, params)


def project_categories(where="TRUE", params=()):
    """Insert or refresh the read rows of the categories matching ``where``."""
    return project(CATEGORIES, where, params)


def remove_product(product_id):
    """Delete an archived product and its ledger from the read side."""
    _execute("DELETE FROM read_stock_movement WHERE product_id = %s", [product_id])
    _execute("DELETE FROM read_product WHERE id = %s", [product_id])


def on_category_created(sender, event, **kwargs):
    project_categories("c.slug = %s", [event.slug])


def on_category_renamed(sender, event, **kwargs):
    project_categories("c.slug = %s", [event.slug])
    project_products("c.slug = %s", [event.slug])


def on_product_created(sender, event, **kwargs):
    project_products("p.id = %s", [event.product_id])
    project_movements("m.product_id = %s", [event.product_id])


def on_product_details_updated(sender, event, **kwargs):
    project_products("p.id = %s", [event.product_id])


def on_product_archived(sender, event, **kwargs):
    remove_product(event.product_id)


# A stock change touches only the stock columns of the read row: refresh those and copy the
# new ledger row in one statement, rather than recomputing the whole row (search document
# included) on the hottest path.
_STOCK_CHANGED_SQL = """
    WITH movement AS (
        INSERT INTO read_stock_movement (id, product_id, delta, quantity_after, reason, created_at)
        SELECT id, product_id, delta, quantity_after, reason, created_at
          FROM products_stockmovement WHERE id = %(movement_id)s
        ON CONFLICT (id) DO NOTHING
    )
    UPDATE read_product r
       SET quantity = s.quantity, in_stock = s.quantity > 0, version = p.version, updated_at = p.updated_at
      FROM products_product p JOIN products_stocklevel s ON s.product_id = p.id
     WHERE r.id = p.id AND p.id = %(product_id)s
"""


def on_stock_changed(sender, event, **kwargs):
    # Connected in single-database mode only, where the read tables sit beside the write tables.
    _execute(_STOCK_CHANGED_SQL, {"movement_id": event.movement_id, "product_id": event.product_id})


RECEIVERS = (
    (events.CategoryCreated, on_category_created),
    (events.CategoryRenamed, on_category_renamed),
    (events.ProductCreated, on_product_created),
    (events.ProductDetailsUpdated, on_product_details_updated),
    (events.ProductArchived, on_product_archived),
    (events.StockAdjusted, on_stock_changed),
    (events.StockSet, on_stock_changed),
)


def connect():
    """Connect the in-transaction receivers (single-database mode)."""
    for event_type, handler in RECEIVERS:
        signal_for(event_type).connect(handler, dispatch_uid=f"projector.{event_type.__name__}")


def clear():
    """Delete every read row; DELETE keeps concurrent readers on the old rows until commit."""
    return sum(_execute(f"DELETE FROM {table}") for table in READ_TABLES)


def rebuild(progress=None):
    """Recompute every read table from the write tables; the caller provides the transaction.

    Rows are deleted rather than truncated: TRUNCATE would lock readers out, while DELETE
    lets concurrent reads keep seeing the old rows until the rebuild commits.
    """
    steps = [
        ("clear read tables", clear),
        ("categories", project_categories),
        ("products", project_products),
        ("stock movements", project_movements),
    ]
    counts = {}
    for index, (label, step) in enumerate(steps, start=1):
        result = step()
        counts[label] = result
        if progress:
            progress(index, len(steps), label, result)
    return counts


def rebuild_all(progress=None):
    """Rebuild every read table in its own transaction(s); return the row counts.

    In split mode the write side is read in one REPEATABLE READ snapshot, and the projector
    worker's position is set to the last event in that snapshot, so it goes on with
    exactly the events the rebuilt rows do not include yet.
    """
    read = read_store_alias()
    with transaction.atomic(), transaction.atomic(using=read):
        if read == DEFAULT_DB_ALIAS:
            return rebuild(progress)
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT coalesce(max(id), 0) FROM products_event")
            (last_event_id,) = cursor.fetchone()
        counts = rebuild(progress)
        ProjectorPosition.objects.using(read).update_or_create(
            name=PROJECTOR_POSITION, defaults={"last_event_id": last_event_id}
        )
        return counts


@dataclass(frozen=True)
class Difference:
    """A read row that is missing, extra, or differs from what the write tables imply."""

    table: str
    key: str
    kind: str  # "missing", "extra" or "wrong"
    fields: tuple = ()

    def __str__(self):
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.table} {self.key}: {self.kind}{detail}"


def _compare(table, pairs):
    """Turn (expected, actual) row pairs into differences."""
    for want, have in pairs:
        if want is None:
            yield Difference(table.name, str(have[0]), "extra")
        elif have is None:
            yield Difference(table.name, str(want[0]), "missing")
        else:
            wrong = tuple(c for c, w, h in zip(table.columns, want, have, strict=True) if w != h)
            if wrong:
                yield Difference(table.name, str(want[0]), "wrong", wrong)


def _pairs_in_sql(table):
    # Key first in every column list, so row[0] is the key on both sides.
    expected = ", ".join(f"e.{column}" for column in table.columns)
    actual = ", ".join(f"r.{column}" for column in table.columns)
    sql = (
        f"SELECT {expected}, {actual} FROM ({table.expected_sql.format(where='TRUE')}) e"
        f" FULL JOIN {table.name} r ON r.{table.key} = e.{table.key}"
        f" WHERE e.{table.key} IS NULL OR r.{table.key} IS NULL OR ({expected}) IS DISTINCT FROM ({actual})"
        f" ORDER BY coalesce(e.{table.key}, r.{table.key})"
    )
    width = len(table.columns)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql)
        for row in cursor.fetchall():
            want, have = row[:width], row[width:]
            yield (None if want[0] is None else want), (None if have[0] is None else have)


def _pairs_across_databases(table):
    # Two databases cannot be joined: fetch both sides and match them by key.
    columns = ", ".join(table.columns)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM ({table.expected_sql.format(where='TRUE')}) e")
        expected = {row[0]: row for row in cursor.fetchall()}
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table.name}")
        actual = {row[0]: row for row in cursor.fetchall()}
    for key in sorted(expected.keys() | actual.keys(), key=str):
        yield expected.get(key), actual.get(key)


def differences():
    """Compare every read table with what the write tables imply; return the differences."""
    pairs = _pairs_in_sql if read_store_alias() == DEFAULT_DB_ALIAS else _pairs_across_databases
    return [d for table in (CATEGORIES, PRODUCTS, MOVEMENTS) for d in _compare(table, pairs(table))]


def repair(found):
    """Fix the given differences: delete extra rows, recompute missing and wrong ones."""
    write_keys = {CATEGORIES: ("c.slug", "text"), PRODUCTS: ("p.id", "uuid"), MOVEMENTS: ("m.id", "bigint")}
    for table, (column, sql_type) in write_keys.items():
        extra = [d.key for d in found if d.table == table.name and d.kind == "extra"]
        stale = [d.key for d in found if d.table == table.name and d.kind != "extra"]
        if extra:
            _execute(f"DELETE FROM {table.name} WHERE {table.key}::text = ANY(%s)", [extra])
        if stale:
            project(table, f"{column} = ANY(%s::{sql_type}[])", [stale])
