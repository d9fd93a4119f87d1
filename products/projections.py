"""The projector: keep the read tables equal to what the write tables imply.

Every projection recomputes rows from the write tables with one set-based statement, so
it is idempotent, and a rebuild is the same statement run without a filter. Receivers
run inside the command's transaction: the read side changes exactly when the write does.
"""

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
    SELECT p.id, p.sku, p.name, p.description, c.slug, c.name, p.price, s.quantity,
           s.quantity > 0, p.version, p.created_at, p.updated_at,
           to_tsvector('simple', translate(p.sku || ' ' || p.name || ' ' || p.description,
                                           '-._/', '    '))
      FROM products_product p
      JOIN products_stocklevel s ON s.product_id = p.id
      LEFT JOIN products_category c ON c.id = p.category_id
     WHERE NOT p.is_archived AND ({where})
"""

_UPSERT_PRODUCTS_SQL = (
    f"INSERT INTO read_product ({', '.join(PRODUCT_COLUMNS)}) {EXPECTED_PRODUCTS_SQL}"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{column} = EXCLUDED.{column}" for column in PRODUCT_COLUMNS[1:])
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
        ("clear read tables", lambda: [_execute(f"DELETE FROM {table}") for table in READ_TABLES]),
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
