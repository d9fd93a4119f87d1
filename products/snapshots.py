"""The current state of write-side rows, in the shape of the API representation.

Used for the payloads of events (so the event log alone can rebuild a read store) and
for the responses to writes, which are built from the write side in every mode.
"""

from django.db import connection

PRODUCT_SQL = """
    SELECT p.id::text AS id, p.sku, p.name, p.description, c.slug AS category, c.name AS category_name,
           p.price::text AS price, s.quantity, s.quantity > 0 AS in_stock, p.version,
           p.created_at, p.updated_at, p.is_archived
      FROM products_product p
      JOIN products_stocklevel s ON s.product_id = p.id
      LEFT JOIN products_category c ON c.id = p.category_id
     WHERE p.id = %s
"""
MOVEMENT_SQL = """
    SELECT id, product_id::text AS product_id, delta, quantity_after, reason, created_at
      FROM products_stockmovement WHERE {where} ORDER BY id
"""
CATEGORY_SQL = "SELECT slug, name, created_at, updated_at FROM products_category WHERE slug = %s"


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def product(product_id):
    """Return the product as the API shows it (plus ``is_archived``), or None."""
    rows = _rows(PRODUCT_SQL, [product_id])
    return rows[0] if rows else None


def representation(product_id):
    """Return the API representation of a product, read from the write tables."""
    state = product(product_id)
    state.pop("is_archived")
    return state


_MOVEMENT_FIELDS = ("id", "product_id", "delta", "quantity_after", "reason", "created_at")


def stock_change(product_id, movement_id):
    """Return the product and one of its ledger rows, in one query."""
    movement_columns = ", ".join(f"m.{name} AS movement_{name}" for name in _MOVEMENT_FIELDS)
    rows = _rows(
        f"SELECT product.*, {movement_columns} FROM ({PRODUCT_SQL}) product"
        " JOIN (" + MOVEMENT_SQL.format(where="id = %s") + ") m ON true",
        [product_id, movement_id],
    )
    state = rows[0]
    state.pop("is_archived")
    movement = {name: state.pop(f"movement_{name}") for name in _MOVEMENT_FIELDS}
    return state, movement


def movements(*, product_id=None, movement_id=None):
    """Return ledger rows of a product, or the one with ``movement_id``."""
    if movement_id is not None:
        return _rows(MOVEMENT_SQL.format(where="id = %s"), [movement_id])
    return _rows(MOVEMENT_SQL.format(where="product_id = %s"), [product_id])


def category(slug):
    rows = _rows(CATEGORY_SQL, [slug])
    return rows[0] if rows else None
