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
from products.read.tables import CATEGORIES, MOVEMENTS, PRODUCTS

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
    project(PRODUCTS, "c.slug = %s", [event.slug])


def on_product_created(event):
    project(PRODUCTS, "p.id = %s", [event.product_id])
    project(MOVEMENTS, "m.product_id = %s", [event.product_id])


def on_product_details_updated(event):
    project(PRODUCTS, "p.id = %s", [event.product_id])


def on_product_archived(event):
    """Delete an archived product and its ledger from the read side."""
    execute(f"DELETE FROM {MOVEMENTS.name} WHERE product_id = %s", [event.product_id])
    execute(f"DELETE FROM {PRODUCTS.name} WHERE id = %s", [event.product_id])


# A stock change touches only the stock columns of the read row: refresh those and copy the
# new ledger row in one statement, rather than recomputing the whole row (search document
# included) on the hottest path.
_STOCK_CHANGED_SQL = f"""
    WITH movement AS (
        {MOVEMENTS.insert_sql(MOVEMENTS.expected_sql("m.id = %(movement_id)s"))}
    )
    UPDATE read_product r
       SET quantity = s.quantity, in_stock = s.quantity > 0, version = p.version, updated_at = p.updated_at
      FROM products_product p JOIN products_stocklevel s ON s.product_id = p.id
     WHERE r.id = p.id AND p.id = %(product_id)s
"""


def on_stock_changed(event):
    execute(_STOCK_CHANGED_SQL, {"movement_id": event.movement_id, "product_id": event.product_id})


# The event table: which projections each event triggers in the command's transaction.
EVENT_HANDLERS = {
    events.CategoryCreated: (on_category_created,),
    events.CategoryRenamed: (on_category_renamed,),
    events.ProductCreated: (on_product_created,),
    events.ProductDetailsUpdated: (on_product_details_updated,),
    events.ProductArchived: (on_product_archived,),
    events.StockAdjusted: (on_stock_changed,),
    events.StockSet: (on_stock_changed,),
}
SPLIT_MODE_EVENT_HANDLERS = {event_type: () for event_type in EVENT_HANDLERS}
