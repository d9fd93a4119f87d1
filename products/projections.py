"""The projector: keep the read tables equal to what the write tables imply.

Every projection recomputes rows from the write tables with one set-based statement, so
it is idempotent, and a rebuild is the same statement run without a filter. Receivers
run inside the command's transaction: the read side changes exactly when the write does.
"""

from dataclasses import dataclass

from django.db import connection
from django.dispatch import receiver

from products import events
from products.events import signal_for

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
# Punctuation inside words (HT-001, v2.5, snake_case) is split so each part is a searchable word.
EXPECTED_PRODUCTS_SQL = """
    SELECT p.id, p.sku, p.name, p.description, c.slug AS category_slug, c.name AS category_name,
           p.price, s.quantity, s.quantity > 0 AS in_stock, p.version, p.created_at, p.updated_at,
           to_tsvector('simple', translate(p.sku || ' ' || p.name || ' ' || p.description,
                                           '-._/', '    ')) AS search_document
      FROM products_product p
      JOIN products_stocklevel s ON s.product_id = p.id
      LEFT JOIN products_category c ON c.id = p.category_id
     WHERE NOT p.is_archived AND ({where})
"""

_UPSERT_PRODUCTS_SQL = (
    f"INSERT INTO read_product ({', '.join(PRODUCT_COLUMNS)}) {EXPECTED_PRODUCTS_SQL}"
    " ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{column} = EXCLUDED.{column}" for column in PRODUCT_COLUMNS[1:])
)

MOVEMENT_COLUMNS = ("id", "product_id", "delta", "quantity_after", "reason", "created_at")

EXPECTED_MOVEMENTS_SQL = """
    SELECT m.id, m.product_id, m.delta, m.quantity_after, m.reason, m.created_at
      FROM products_stockmovement m
      JOIN products_product p ON p.id = m.product_id
     WHERE NOT p.is_archived AND ({where})
"""

_INSERT_MOVEMENTS_SQL = (
    f"INSERT INTO read_stock_movement ({', '.join(MOVEMENT_COLUMNS)}) {EXPECTED_MOVEMENTS_SQL}"
    " ON CONFLICT (id) DO NOTHING"
)

EXPECTED_CATEGORIES_SQL = """
    SELECT c.slug, c.name, c.created_at, c.updated_at FROM products_category c WHERE ({where})
"""

_UPSERT_CATEGORIES_SQL = (
    f"INSERT INTO read_category (slug, name, created_at, updated_at) {EXPECTED_CATEGORIES_SQL}"
    " ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, created_at = EXCLUDED.created_at,"
    " updated_at = EXCLUDED.updated_at"
)


def _execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def project_products(where="TRUE", params=()):
    """Insert or refresh the read rows of the active products matching ``where``."""
    return _execute(_UPSERT_PRODUCTS_SQL.format(where=where), params)


def project_movements(where="TRUE", params=()):
    """Copy the ledger rows matching ``where`` of active products to the read side."""
    return _execute(_INSERT_MOVEMENTS_SQL.format(where=where), params)


def project_categories(where="TRUE", params=()):
    """Insert or refresh the read rows of the categories matching ``where``."""
    return _execute(_UPSERT_CATEGORIES_SQL.format(where=where), params)


def remove_product(product_id):
    """Delete an archived product and its ledger from the read side."""
    _execute("DELETE FROM read_stock_movement WHERE product_id = %s", [product_id])
    _execute("DELETE FROM read_product WHERE id = %s", [product_id])


@receiver(signal_for(events.CategoryCreated))
def on_category_created(sender, event, **kwargs):
    project_categories("c.slug = %s", [event.slug])


@receiver(signal_for(events.CategoryRenamed))
def on_category_renamed(sender, event, **kwargs):
    project_categories("c.slug = %s", [event.slug])
    project_products("c.slug = %s", [event.slug])


@receiver(signal_for(events.ProductCreated))
def on_product_created(sender, event, **kwargs):
    project_products("p.id = %s", [event.product_id])
    project_movements("m.product_id = %s", [event.product_id])


@receiver(signal_for(events.ProductDetailsUpdated))
def on_product_details_updated(sender, event, **kwargs):
    project_products("p.id = %s", [event.product_id])


@receiver(signal_for(events.ProductArchived))
def on_product_archived(sender, event, **kwargs):
    remove_product(event.product_id)


@receiver(signal_for(events.StockAdjusted))
@receiver(signal_for(events.StockSet))
def on_stock_changed(sender, event, **kwargs):
    project_products("p.id = %s", [event.product_id])
    project_movements("m.id = %s", [event.movement_id])


READ_TABLES = ("read_product", "read_stock_movement", "read_category")


def rebuild(progress=None):
    """Recompute every read table from the write tables; the caller provides the transaction.

    Rows are deleted rather than truncated: TRUNCATE would lock readers out, while DELETE
    lets concurrent reads keep seeing the old rows until the rebuild commits.
    """
    steps = [
        ("clear read tables", lambda: sum(_execute(f"DELETE FROM {table}") for table in READ_TABLES)),
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


# table, key column, columns compared, SQL of the expected rows.
_CHECKS = (
    ("read_category", "slug", ("slug", "name", "created_at", "updated_at"), EXPECTED_CATEGORIES_SQL),
    ("read_product", "id", PRODUCT_COLUMNS, EXPECTED_PRODUCTS_SQL),
    ("read_stock_movement", "id", MOVEMENT_COLUMNS, EXPECTED_MOVEMENTS_SQL),
)


def differences():
    """Compare every read table with what the write tables imply; return the differences."""
    found = []
    for table, key, columns, expected_sql in _CHECKS:
        expected = ", ".join(f"e.{column}" for column in columns)
        actual = ", ".join(f"r.{column}" for column in columns)
        sql = (
            f"SELECT {expected}, {actual} FROM ({expected_sql.format(where='TRUE')}) e"
            f" FULL JOIN {table} r ON r.{key} = e.{key}"
            f" WHERE e.{key} IS NULL OR r.{key} IS NULL OR ({expected}) IS DISTINCT FROM ({actual})"
            f" ORDER BY coalesce(e.{key}, r.{key})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            for row in cursor.fetchall():
                want, have = row[: len(columns)], row[len(columns) :]
                if want[0] is None:
                    found.append(Difference(table, str(have[0]), "extra"))
                elif have[0] is None:
                    found.append(Difference(table, str(want[0]), "missing"))
                else:
                    wrong = tuple(c for c, w, h in zip(columns, want, have, strict=True) if w != h)
                    found.append(Difference(table, str(want[0]), "wrong", wrong))
    return found


def repair(found):
    """Fix the given differences: delete extra rows, recompute missing and wrong ones."""
    projectors = {
        "read_category": (project_categories, "c.slug", "text"),
        "read_product": (project_products, "p.id", "uuid"),
        "read_stock_movement": (project_movements, "m.id", "bigint"),
    }
    for table, (project, column, sql_type) in projectors.items():
        extra = [d.key for d in found if d.table == table and d.kind == "extra"]
        stale = [d.key for d in found if d.table == table and d.kind != "extra"]
        key = "slug" if table == "read_category" else "id"
        if extra:
            _execute(f"DELETE FROM {table} WHERE {key}::text = ANY(%s)", [extra])
        if stale:
            project(f"{column} = ANY(%s::{sql_type}[])", [stale])
