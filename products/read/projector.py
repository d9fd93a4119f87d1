"""The same-transaction projector: keep the read tables equal to what the write tables imply.

Every projection recomputes rows from the write tables with one set-based statement, so
it is idempotent, and a rebuild is the same statement run without a filter. In the
default single-database mode ``EVENT_HANDLERS`` is the bus's event table: its handlers run
inside the command's transaction, so the read side changes exactly when the write does,
and a projection that fails rolls the command back.

In split mode the bus's table is empty (``SPLIT_MODE_EVENT_HANDLERS``): the worker in
``products.read.worker`` feeds the read store from the event log instead, and ``project``
copies rows across the two databases for rebuilds and repairs.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from psycopg2.extras import execute_values

from cqrs_demo.routers import read_store_alias
from products import events
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

_COPY_PAGE = 2000


def execute(sql, params=(), using=None):
    """Run ``sql`` on the read store (or ``using``); return the row count."""
    with connections[using or read_store_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def project(table, where="TRUE", params=()):
    """Insert or refresh the read rows of ``table`` whose write rows match ``where``.

    With the read tables beside the write tables this is one INSERT ... SELECT; with a
    separate read database the expected rows are streamed across in pages.
    """
    expected = table.expected_sql(where)
    target = read_store_alias()
    if target == DEFAULT_DB_ALIAS:
        return execute(table.insert_sql(expected), params)
    insert = table.insert_sql("VALUES %s")
    copied = 0
    with connections[DEFAULT_DB_ALIAS].chunked_cursor() as source, connections[target].cursor() as sink:
        source.execute(expected, params)
        while rows := source.fetchmany(_COPY_PAGE):
            execute_values(sink.cursor, insert, rows, page_size=_COPY_PAGE)
            copied += len(rows)
    return copied


def on_category_created(event):
    project(CATEGORIES, "c.slug = %s", [event.slug])


def on_category_renamed(event):
    project(CATEGORIES, "c.slug = %s", [event.slug])
    # Only the name: recomputing whole rows could undo a stock change committed meanwhile.
    execute(rename_category_sql(PRODUCTS.name), {"slug": event.slug, "name": event.name})


def rename_category_sql(table):
    """Return the UPDATE that shows a category's new name on its products' read rows."""
    return f"UPDATE {table} SET category_name = %(name)s WHERE category_slug = %(slug)s"


def on_location_written(event):
    project(LOCATIONS, "l.code = %s", [event.code])


def on_product_created(event):
    project(PRODUCTS, "p.id = %s", [event.product_id])
    project(SEARCH, "p.id = %s", [event.product_id])
    project(STOCK_LEVELS, "sl.product_id = %s", [event.product_id])  # its opening stock, at main
    project(MOVEMENTS, "m.product_id = %s", [event.product_id])


def on_product_details_updated(event):
    project(PRODUCTS, "p.id = %s", [event.product_id])
    project(SEARCH, "p.id = %s", [event.product_id])


# An archived product leaves the read side with its ledger; the product row first, in the
# order a rebuild locks the tables (READ_TABLES), so the two never deadlock.
ARCHIVE_SQL = (
    f"DELETE FROM {PRODUCTS.name} WHERE id = %(product_id)s",
    f"DELETE FROM {SEARCH.name} WHERE id = %(product_id)s",
    f"DELETE FROM {STOCK_LEVELS.name} WHERE product_id = %(product_id)s",
    f"DELETE FROM {MOVEMENTS.name} WHERE product_id = %(product_id)s",
)


def on_product_archived(event):
    """Delete an archived product and its ledger from the read side."""
    for statement in ARCHIVE_SQL:
        execute(statement, {"product_id": event.product_id})


# A reservation's holds are replaced as a whole: its lines hold, or (once it ended) none do.
DELETE_HOLDS_SQL = f"DELETE FROM {HOLDS.name} WHERE reservation_id = %s"


def on_reservation_changed(event):
    """Refresh a reservation's read row and its holds (what products show as reserved)."""
    project(RESERVATIONS, "r.id = %s", [event.reservation_id])
    execute(DELETE_HOLDS_SQL, [event.reservation_id])
    project(HOLDS, "rl.reservation_id = %s", [event.reservation_id])


def stock_projection_steps(state, ledger, level):
    """Return the CTE steps that project a stock change inside the command's own statement.

    A stock change moves only the stock columns of the product's read row (``STOCK_COLUMNS``),
    upserts the read row of its stock level at one location and adds one ledger row, so the
    stock commands do it in the same SQL statement that changes the write tables
    (``products.write.commands.stock``), from that statement's own rows: ``state`` is the
    product's new read row, ``ledger`` the new ledger row's, ``level`` the stock level's.
    """
    assignments = ", ".join(f"{column} = {state}.{column}" for column in STOCK_COLUMNS)
    return f"""
    projected_product AS (
        UPDATE {PRODUCTS.name} r SET {assignments} FROM {state} WHERE r.id = {state}.id
    ), projected_level AS (
        {STOCK_LEVELS.insert_sql(f"SELECT * FROM {level}")}
    ), projected_movement AS (
        {MOVEMENTS.insert_sql(f"SELECT * FROM {ledger}")}
    )"""


def reservation_placed_steps(reservation, holds):
    """Return the CTE steps that project a placed reservation inside its statement.

    ``reservation``: the reservation's read row; ``holds``: its holds' read rows.
    """
    return f"""
    projected_reservation AS (
        {RESERVATIONS.insert_sql(f"SELECT * FROM {reservation}")}
    ), projected_holds AS (
        {HOLDS.insert_sql(f"SELECT * FROM {holds}")}
    )"""


def reservation_committed_steps(state, ledger, level, reservation):
    """Return the CTE steps that project a committed reservation, and its lines' stock changes, inside its statement.

    ``state``, ``ledger``, ``level`` as in ``stock_projection_steps`` (``state``: each product
    as its last line left it); ``reservation``: the reservation's read row. It holds nothing now.
    """
    return f"""{stock_projection_steps(state, ledger, level)}, projected_reservation AS (
        {RESERVATIONS.insert_sql(f"SELECT * FROM {reservation}")}
    ), dropped_holds AS (
        DELETE FROM {HOLDS.name} WHERE reservation_id IN (SELECT id FROM {reservation})
    )"""


# The projections that run inside a command's own statement (single-database mode), by the
# event they project; products.apps registers them for the write side (products.events.in_statement).
IN_STATEMENT = {
    events.StockAdjusted: stock_projection_steps,
    events.StockSet: stock_projection_steps,
    events.ReservationPlaced: reservation_placed_steps,
    events.ReservationCommitted: reservation_committed_steps,
}


# The event table: which projections each event triggers in the command's transaction.
EVENT_HANDLERS = {
    events.CategoryCreated: (on_category_created,),
    events.CategoryRenamed: (on_category_renamed,),
    events.LocationCreated: (on_location_written,),
    events.LocationChanged: (on_location_written,),
    events.ProductCreated: (on_product_created,),
    events.ProductDetailsUpdated: (on_product_details_updated,),
    events.ProductArchived: (on_product_archived,),
    # Projected by steps of the command's own statement: see IN_STATEMENT.
    events.StockAdjusted: (),
    events.StockSet: (),
    events.StockLow: (),  # for the relay's consumers (reordering); no read row changes
    events.StockTransferred: (),  # its legs are StockAdjusted events
    events.ReservationPlaced: (),
    events.ReservationCommitted: (),
    events.ReservationReleased: (on_reservation_changed,),
    events.ReservationExtended: (on_reservation_changed,),
    events.ReservationExpired: (on_reservation_changed,),
}
SPLIT_MODE_EVENT_HANDLERS = {event_type: () for event_type in EVENT_HANDLERS}
