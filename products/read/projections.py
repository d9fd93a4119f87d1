"""What each event does to the read tables: one projection per event type, for both modes.

A projection applies the state an event carries (its payload: ``products.write.event_log``,
declared with its type in ``products.events``) to the read tables, set-based over a run of
events of the types that share an entry, never moving a row to an older version. None reads
the write tables, so the log alone can rebuild a read store, and the read rows of
single-database mode are those split mode derives from the same events.

Two callers run them; they differ in how, not in what:

- ``PROJECTIONS`` applies a run of payloads through ``statements`` (``execute``, ``fetchall``,
  ``fetchone``): the worker (``products.read.worker``) queues a batch's statements on the read
  database and sends them in one round trip; single-database mode's bus handlers
  (``products.read.projector``) run the events a command just appended, on its connection,
  in its transaction.
- ``IN_STATEMENT``: the events the stock and checkout statements append are projected by
  those statements themselves (one round trip per command), with the same steps
  (``stock_steps``, ``ledger_steps``, ``reservation_steps``) fed from the statement's own
  rows instead of from decoded payloads: the payload path reads those rows from JSON
  (``ReadTable.json_rows_sql``), the statement from its CTEs.

Recomputing read rows from the write tables (``ReadTable.expected_sql``) is for rebuilds and
verification only (``products.read.rebuild``).
"""

import orjson

from products import events
from products.events.stock import MAIN_LOCATION
from products.read.tables import (
    CATEGORIES,
    HOLDS,
    LOCATIONS,
    MOVEMENTS,
    PRODUCTS,
    RESERVATIONS,
    SEARCH,
    STOCK_COLUMNS,
    STOCK_LEVELS,
)

# ---------------------------------------------------------------- steps from rows, shared by both ways


def _columns(table, alias="s"):
    """Return ``table``'s columns, in order, as columns of row ``alias`` (a relation that may have more)."""
    return ", ".join(f"{alias}.{name}" for name in table.column_names)


def ledger_steps(movements):
    """Return the CTE steps that add ledger rows and move the stock levels they end at.

    ``movements``: a relation of ledger read rows (``MOVEMENTS``' columns, one per movement).
    A ledger row carries its location and the quantity there after it, so each product's level
    at a location is its last ledger row's there (the highest id: ids follow the product's lock).
    """
    level = STOCK_LEVELS.payload_expressions("m")  # a level's columns over a ledger row's fields
    return f"""
    projected_movement AS (
        {MOVEMENTS.insert_sql(f"SELECT {_columns(MOVEMENTS)} FROM {movements} s")}
    ), projected_level AS (
        {
        STOCK_LEVELS.insert_sql(
            f"SELECT DISTINCT ON (m.product_id, m.location) {', '.join(level)} FROM {movements} m"
            " ORDER BY m.product_id, m.location, m.id DESC"
        )
    }
    )"""


def stock_steps(products, movements):
    """Return the CTE steps that project a run of stock changes.

    A stock change moves only the stock columns of the product's read row (``STOCK_COLUMNS``),
    never back to an older version (a product without a read row yet gets the whole row), adds
    its ledger rows and moves their stock levels (``ledger_steps``). ``products``: a relation of
    product read rows as the run left them, one per product; ``movements``: the ledger read rows.
    """
    return f"""
    projected_product AS (
        {PRODUCTS.insert_sql(f"SELECT {_columns(PRODUCTS)} FROM {products} s", update=STOCK_COLUMNS)}
    ),{ledger_steps(movements)}"""


# A relation with the holds' columns and no row: a reservation that holds nothing.
NO_HOLDS = f"(SELECT * FROM {HOLDS.name} WHERE FALSE)"


def reservation_steps(reservations, holds=NO_HOLDS):
    """Return the CTE steps that project reservations: their read rows, and the holds that are theirs now.

    ``reservations``: a relation of reservation read rows, at most one per reservation; a row
    applies unless the read row has a newer version, and then the reservation's holds become
    ``holds`` (a relation of hold read rows): those not among them are deleted, the others
    upserted (never the same row by both steps).
    """
    theirs = "projected_reservation r ON r.id = s.reservation_id"
    return f"""
    projected_reservation AS (
        {RESERVATIONS.insert_sql(f"SELECT {_columns(RESERVATIONS)} FROM {reservations} s", returning="id")}
    ), dropped_holds AS (
        DELETE FROM {HOLDS.name} d USING projected_reservation r
         WHERE d.reservation_id = r.id AND NOT EXISTS (SELECT FROM {holds} h WHERE h.key = d.key)
    ), projected_holds AS (
        {HOLDS.insert_sql(f"SELECT {_columns(HOLDS)} FROM {holds} s JOIN {theirs}")}
    )"""


def reservation_committed_steps(products, movements, reservations):
    """Return the CTE steps that project a committed reservation (it holds nothing now) and its lines' stock changes."""
    return f"{stock_steps(products, movements)},{reservation_steps(reservations)}"


# The projections the stock and checkout statements include, by the event they append:
# ``{event type: build(**relations) -> CTE steps}``, the relations being the statement's own
# steps that hold the read rows (``products``: as the statement left them, one per product;
# ``movements``: the ledger rows; ``reservations``, ``holds``). ``products.apps`` registers
# them for the write side (``products.events.in_statement``).
IN_STATEMENT = {
    events.StockAdjusted: stock_steps,
    events.StockSet: stock_steps,
    events.ReservationPlaced: reservation_steps,
    events.ReservationCommitted: reservation_committed_steps,
}


# ---------------------------------------------------------------- from payloads

_UPSERT_CATEGORY_SQL = CATEGORIES.upsert_sql()
_UPSERT_LOCATION_SQL = LOCATIONS.upsert_sql()

# Payloads logged before stock had locations lack these fields: their values then.
_PRODUCT_DEFAULTS = {"reorder_point": 0}
_MOVEMENT_DEFAULTS = {"location": MAIN_LOCATION, "reference": None}


def rename_category_sql(table):
    """Return the UPDATE that shows a category's new name on its products' read rows."""
    return f"UPDATE {table} SET category_name = %(name)s WHERE category_slug = %(slug)s"


# An archived product leaves the read side with its ledger; the product row first, in the
# order a rebuild locks the tables (READ_TABLES), so the two never deadlock.
ARCHIVE_SQL = (
    f"DELETE FROM {PRODUCTS.name} WHERE id = %(product_id)s",
    f"DELETE FROM {SEARCH.name} WHERE id = %(product_id)s",
    f"DELETE FROM {STOCK_LEVELS.name} WHERE product_id = %(product_id)s",
    f"DELETE FROM {MOVEMENTS.name} WHERE product_id = %(product_id)s",
)


def _apply_category(statements, data):
    statements.execute(_UPSERT_CATEGORY_SQL, data["category"])


def _apply_category_renamed(statements, data):
    _apply_category(statements, data)
    # Only the name: a whole row could undo a stock change applied meanwhile.
    statements.execute(rename_category_sql(PRODUCTS.name), data)


def _apply_location(statements, data):
    statements.execute(_UPSERT_LOCATION_SQL, data["location"])


def _apply_product_archived(statements, data):
    for statement in ARCHIVE_SQL:
        statements.execute(statement, data)


def _apply_reservation(statements, data):
    # The stored status (not the one a read shows), version and updated_at: never back to an older one.
    reservation = {**data["reservation"], "status": data["status"], "version": data["version"]}
    reservation["updated_at"] = data["updated_at"]
    statements.execute(
        *_from_payloads(
            statements, reservation_steps, reservations=(RESERVATIONS, [reservation]), holds=(HOLDS, data["holds"])
        )
    )


def _newest_by_id(products):
    """One row per product: the highest version (a later one of equal version), as applying them in turn would leave."""
    newest = {}
    for product in products:
        held = newest.get(product["id"])
        if held is None or held["version"] <= product["version"]:
            newest[product["id"]] = product
    return list(newest.values())


_COLUMN_TYPES_SQL = """
    SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
     WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped
"""
_column_types = {}  # a read table's column types, as its database has them: read once per process


def _types(statements, table):
    if table.name not in _column_types:
        _column_types[table.name] = dict(statements.fetchall(_COLUMN_TYPES_SQL, [table.name]))
    return _column_types[table.name]


def _json(table, rows):
    """Return ``rows`` (payloads in API shape) as the JSON array ``table.json_rows_sql`` reads."""
    fields = table.payload_fields()
    return orjson.dumps([{field: row.get(field) for field in fields} for row in rows]).decode()


def _upsert_rows(statements, table, rows, **options):
    """Return the upsert of ``rows`` (payloads in API shape) into ``table`` as one statement, and its parameters."""
    return table.upsert_rows_sql(_types(statements, table), **options), {"rows": _json(table, rows)}


def _from_payloads(statements, steps, **relations):
    """Return ``steps`` fed from payloads as one statement, and its parameters.

    ``relations``: ``{name: (table, rows)}``; each is a JSON parameter ``name`` read as
    ``table``'s rows (``json_rows_sql``) in a step of its own, passed to ``steps`` as ``name``.
    """
    sources = ", ".join(
        f"{name}_rows AS MATERIALIZED ({table.json_rows_sql(_types(statements, table), parameter=name)})"
        for name, (table, _) in relations.items()
    )
    params = {name: _json(table, rows) for name, (table, rows) in relations.items()}
    return f"WITH {sources},{steps(**{name: f'{name}_rows' for name in relations})} SELECT", params


def _movement_rows(statements, movements):
    """Queue the ledger rows and the stock levels they end at (``ledger_steps``)."""
    rows = [{**_MOVEMENT_DEFAULTS, **movement} for movement in movements]
    if rows:
        statements.execute(*_from_payloads(statements, ledger_steps, movements=(MOVEMENTS, rows)))


def _search_of_applied(upsert):
    """Return ``upsert`` of product rows, then the search documents of the rows it applied (not older ones)."""
    search = SEARCH.insert_sql(SEARCH.expected_sql(sources="applied p", scope="TRUE"))
    return f"WITH applied AS ({upsert}) {search}"


def _apply_products(statements, payloads):
    """A run of product events (created, details): the rows, never to an older version, and their ledger rows."""
    products = _newest_by_id({**_PRODUCT_DEFAULTS, **data["product"]} for data in payloads)
    upsert, params = _upsert_rows(statements, PRODUCTS, products, returning="id, sku, name, description")
    statements.execute(_search_of_applied(upsert), params)
    movements = [
        {**movement, "product_id": data["product_id"]} for data in payloads for movement in data.get("movements", ())
    ]
    _movement_rows(statements, movements)


def _apply_stock_changes(statements, payloads):
    """A run of stock events: ``stock_steps``, as the stock statements include them, from the payloads."""
    products = _newest_by_id({**_PRODUCT_DEFAULTS, **data["product"]} for data in payloads)
    movements = [{**_MOVEMENT_DEFAULTS, **data["movement"], "product_id": data["product_id"]} for data in payloads]
    statements.execute(
        *_from_payloads(statements, stock_steps, products=(PRODUCTS, products), movements=(MOVEMENTS, movements))
    )


def _each(apply):
    """Apply a run of events one by one with ``apply(statements, payload)``: events that come one at a time."""

    def apply_each(statements, payloads):
        for data in payloads:
            apply(statements, data)

    return apply_each


def no_change(statements, payloads):
    """The projection of an event that changes no read row."""


# How a run of consecutive events changes the read store, by type: events of the types that
# share an entry form one run (product events, stock events), applied set-based; the others
# apply one statement each (a reservation's events may follow one another in a run).
PROJECTIONS = {
    events.CategoryCreated: _each(_apply_category),
    events.CategoryRenamed: _each(_apply_category_renamed),
    events.LocationCreated: _each(_apply_location),
    events.LocationChanged: _each(_apply_location),
    events.ProductCreated: _apply_products,
    events.ProductDetailsUpdated: _apply_products,
    events.ProductArchived: _each(_apply_product_archived),
    events.StockAdjusted: _apply_stock_changes,
    events.StockSet: _apply_stock_changes,
    events.StockLow: no_change,  # for the relay's consumers (reordering)
    events.StockTransferred: no_change,  # its legs are StockAdjusted events
    events.ReservationPlaced: _each(_apply_reservation),
    events.ReservationCommitted: _each(_apply_reservation),
    events.ReservationReleased: _each(_apply_reservation),
    events.ReservationExtended: _each(_apply_reservation),
    events.ReservationExpired: _each(_apply_reservation),
}
