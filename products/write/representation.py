"""What a write answers with: the resource as the write tables now hold it, in API shape.

Built from the write side, not the read side, so it is right in split mode too, where the
read store catches up a moment later. The same shapes are the payloads of events (so the
event log alone can rebuild a read store). The shapes come from ``products.read.tables``:
the representation of a product is its read row as it would be projected right now.
"""

from products.read.tables import CATEGORIES, LOCATIONS, MOVEMENTS, PRODUCTS
from products.sql import fetch_dicts


def _one(table, where, params):
    rows = fetch_dicts(table.api_select(f"({table.expected_sql(where)}) AS {table.name}"), params)
    return rows[0] if rows else None


def product(product_id):
    """Return the API representation of an active product, read from the write tables, or None."""
    return _one(PRODUCTS, "p.id = %s", [product_id])


def movements(product_id):
    """Return the ledger rows of a product, oldest first."""
    sql = MOVEMENTS.api_select(f"({MOVEMENTS.expected_sql('m.product_id = %s')}) AS {MOVEMENTS.name}")
    return fetch_dicts(f"{sql} ORDER BY id", [product_id])


def category(slug):
    """Return a category as the API shows it, or None."""
    return _one(CATEGORIES, "c.slug = %s", [slug])


def location(code):
    """Return a location as the API shows it, or None."""
    return _one(LOCATIONS, "l.code = %s", [code])
