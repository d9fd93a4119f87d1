"""What a write answers with: the resource as the write tables now hold it, in API shape.

Built from the write side, not the read side, so it is right in split mode too, where the
read store catches up a moment later. The same shapes are the payloads of events (so the
event log alone can rebuild a read store). The shapes come from ``products.read.tables``:
the representation of a product is its read row as it would be projected right now.
"""

from products.read.tables import (
    CATEGORIES,
    HOLDS,
    LOCATIONS,
    MOVEMENTS,
    PRODUCTS,
    RESERVATIONS,
    product_select,
    shown_reservation,
)
from products.sql import fetch_dicts
from products.write import rules


def _one(table, where, params):
    rows = fetch_dicts(table.api_select(f"({table.expected_sql(where)}) AS {table.name}"), params)
    return rows[0] if rows else None


def product_state(product_id):
    """Return an active product's read row in API shape, as event payloads carry it (None if there is none).

    Without what reservations hold: that changes with the clock, so a payload gives the stock only.
    """
    return _one(PRODUCTS, "p.id = %s", [product_id])


def product(product_id):
    """Return the API representation of an active product, read from the write tables, or None."""
    source = f"({PRODUCTS.expected_sql('p.id = %s')}) AS {PRODUCTS.name}"
    key = f"{PRODUCTS.name}.id"
    rows = fetch_dicts(product_select(source, key, reserved=rules.held(key)), [product_id])
    return rows[0] if rows else None


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


def reservation(reservation_id):
    """Return a reservation as the API shows it, with its stored ``state`` (status, version, updated_at), or None."""
    source = f"({RESERVATIONS.expected_sql('r.id = %s')}) AS {RESERVATIONS.name}"
    stored = ("status AS stored_status", "version", "updated_at")
    rows = fetch_dicts(RESERVATIONS.api_select(source, extra=stored), [reservation_id])
    if not rows:
        return None
    found = shown_reservation(rows[0])
    state = {
        "status": found.pop("stored_status"),
        "version": found.pop("version"),
        "updated_at": found.pop("updated_at"),
    }
    return found, state


def holds(reservation_id):
    """Return the read rows of the holds of a reservation (none unless it is active)."""
    return fetch_dicts(f"{HOLDS.expected_sql('rl.reservation_id = %s')} ORDER BY key", [reservation_id])
