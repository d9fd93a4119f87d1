"""The set-based SQL of ``BulkImportProducts`` that writes its events and read rows.

Payloads are built in SQL with the shapes ``products.read.tables`` defines (the same ones
``event_log.payload_of`` renders from ``representation``: ``api_json``), from the import's
TEMP tables (``bulk_sql``) and the write tables as the import left them. Statement
parameter: ``now`` (the one timestamp of the import).
"""

from products.read.tables import CATEGORIES, MOVEMENTS, PRODUCT_TOTAL, PRODUCTS, SEARCH, STOCK_LEVELS
from products.write import rules
from products.write.commands.bulk_sql import NEW_CATEGORIES, OPENING_MOVEMENT
from products.write.commands.stock_sql import states_after_each_line


def _products(which):
    return PRODUCTS.expected_sql(f"p.id IN (SELECT product_id FROM pg_temp.bulk_product WHERE {which})")


# The products whose details changed, computed once (MATERIALIZED) and looked up in
# ``bulk_product`` by its index on product_id: one ProductDetailsUpdated each, in line order.
DETAILS_EVENTS_SQL = f"""
    WITH e AS MATERIALIZED ({_products("details_changed")})
    INSERT INTO products_event (type, product_id, payload, created_at)
    SELECT 'ProductDetailsUpdated', e.id,
           jsonb_build_object('product_id', e.id::text, 'product', {PRODUCTS.api_json("e")}), %(now)s
      FROM e JOIN pg_temp.bulk_product b ON b.product_id = e.id
     ORDER BY b.line
"""


# A recount that takes a product's available (over its locations, less what reservations
# hold) from above its reorder point to or below it appends a StockLow, as SetStock does
# (rules.stock_low_rows): a removal's, each after the StockSet of its line.
_TAKEN = """SELECT e.id AS product_id, -m.delta AS taken, e.quantity, e.line
      FROM state AS e JOIN pg_temp.bulk_moved m ON m.id = e.movement_id WHERE m.delta < 0"""
_STOCK_LOW = rules.stock_low_rows(_TAKEN, f"t.quantity - {rules.held('p.id')}", extra=", t.line, 1")


# A product whose stock changed at several locations gets a StockSet per location, in the
# rows' order, each with the state it left (as SetStock after SetStock would): the version
# and quantity of the product after it, from its final ones less the changes after it, as
# a batch's and a commit's lines get them (``stock_sql.states_after_each_line``).
# ``bulk_changed`` (those products as they end, read from ``bulk_product``'s rows: the write
# tables' statistics do not know the rows this import wrote) and ``bulk_moved`` (their new
# ledger rows in the read shape) are TEMP tables, ANALYZEd and indexed on the keys the event
# statement joins on.
# Each change (its ledger row's id, its line) with its product's quantity after all of them.
_CHANGES = """(SELECT bm.id, bm.product_id, bm.line, bm.quantity - bm.before AS delta, t.quantity AS total
      FROM pg_temp.bulk_movement bm JOIN pg_temp.bulk_changed t ON t.id = bm.product_id) c"""
_STEPS = states_after_each_line(
    _CHANGES, order="c.line", total="c.total", columns="c.id AS movement_id, c.product_id, c.line"
)
_CHANGED = {"version": "e.version - s.lines_after", "quantity": "s.quantity"}
_AFTER_EACH_CHANGE = f"""
    SELECT {", ".join(f"{_CHANGED.get(name, f'e.{name}')} AS {name}" for name in PRODUCTS.column_names)},
           s.movement_id, s.line
      FROM ({_STEPS}) s JOIN pg_temp.bulk_changed e ON e.id = s.product_id
"""
_STOCK_SET_PAYLOAD = f"""jsonb_build_object('product_id', e.id::text, 'product', {PRODUCTS.api_json("e")},
    'movement_id', m.id, 'location', m.location, 'delta', m.delta, 'quantity', e.quantity,
    'movement', {MOVEMENTS.api_json("m")})"""
STOCK_EVENTS_SQL = [
    f"""CREATE TEMP TABLE bulk_changed ON COMMIT DROP AS {
        PRODUCTS.expected_sql(
            "b.stock_changed",
            sources=f"pg_temp.bulk_product b JOIN products_product p ON p.id = b.product_id"
            f" CROSS JOIN LATERAL ({PRODUCT_TOTAL}) s LEFT JOIN products_category c ON c.id = p.category_id",
        )
    }""",
    "CREATE INDEX ON pg_temp.bulk_changed (id)",
    "ANALYZE pg_temp.bulk_changed (id)",
    f"""CREATE TEMP TABLE bulk_moved ON COMMIT DROP AS {
        MOVEMENTS.expected_sql("m.id IN (SELECT id FROM pg_temp.bulk_movement)")
    }""",
    "CREATE INDEX ON pg_temp.bulk_moved (id)",
    "ANALYZE pg_temp.bulk_moved (id)",
    f"""WITH state AS MATERIALIZED ({_AFTER_EACH_CHANGE})
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT type, product_id, payload, created_at FROM (
            SELECT 'StockSet' AS type, e.id AS product_id, {_STOCK_SET_PAYLOAD} AS payload, %(now)s AS created_at,
                   e.line, 0 AS after
              FROM state AS e JOIN pg_temp.bulk_moved m ON m.id = e.movement_id
            UNION ALL
            {_STOCK_LOW}
        ) events
         ORDER BY line, after""",
]
# The opening ledger row of new product ``o`` in the read shape.
_OPENING_MOVEMENT = MOVEMENTS.expected_sql(
    sources=f"LATERAL ({OPENING_MOVEMENT}) m JOIN products_location l ON l.id = m.location_id", scope="TRUE"
)

# The new products as created (their opening stock at main, version 1), each with its
# ProductCreated's id and its opening ledger row in the shape payloads carry, and the version
# the import leaves it at (``final_version``; its quantity too, ``final_quantity``, unless
# the rows then set its stock elsewhere): their events and (single-database mode) their read
# rows are made from it. Its rows come in the order the joins read ``bulk_opening`` (line
# order, so id order), and the ProductCreated events are written before any StockSet: each
# index of the log takes them page after page (written after the StockSets, whose ids are
# higher, they cost twice as much).
NEW_PRODUCTS_SQL = [
    f"""CREATE TEMP TABLE bulk_new ON COMMIT DROP AS {
        PRODUCTS.expected_sql(
            sources=f"pg_temp.bulk_opening o JOIN products_product p ON p.id = o.product_id"
            f" LEFT JOIN products_category c ON c.id = p.category_id CROSS JOIN LATERAL ({_OPENING_MOVEMENT}) m",
            scope="TRUE",
            overrides={"quantity": "o.quantity", "version": "1"},
            extra=(
                "o.event_id",
                "o.movement_id",
                f"{MOVEMENTS.api_json('m')} AS movement",
                "CASE WHEN o.changes = 0 THEN o.quantity END AS final_quantity",
                "p.version AS final_version",
            ),
        )
    }""",
    f"""INSERT INTO products_event (id, type, product_id, payload, created_at)
        SELECT event_id, 'ProductCreated', n.id, jsonb_build_object('product_id', n.id::text,
               'product', {PRODUCTS.api_json("n")}, 'movements', jsonb_build_array(n.movement)), %(now)s
          FROM pg_temp.bulk_new n""",
]

# The read rows of existing products the import touched, and of its new categories, refreshed
# (upserted) from the write tables after the new products' read rows are in (single-database
# mode), in the read tables' own shape, as the projector refreshes them.
_REFRESHED = {
    CATEGORIES: NEW_CATEGORIES,
    PRODUCTS: """p.id IN (SELECT product_id FROM pg_temp.bulk_product
                          WHERE existing_id IS NOT NULL AND (details_changed OR stock_changed))""",
    SEARCH: "p.id IN (SELECT product_id FROM pg_temp.bulk_product WHERE details_changed)",
    STOCK_LEVELS: """sl.product_id IN (SELECT product_id FROM pg_temp.bulk_product
                                       WHERE existing_id IS NOT NULL AND stock_changed)""",
}

_FINAL = {"quantity": f"coalesce(p.final_quantity, ({PRODUCT_TOTAL}))", "version": "p.final_version"}
# The read rows of the new products as the import leaves them (single-database mode), once the
# stock elsewhere is set: inserted, not upserted (their ids are new), their stock at every
# location the rows gave them.
NEW_PRODUCTS_PROJECTION = [
    PRODUCTS.insert_sql(
        f"SELECT {', '.join(_FINAL.get(name, f'p.{name}') for name in PRODUCTS.column_names)} FROM pg_temp.bulk_new p",
        upsert=False,
    ),
    SEARCH.insert_sql(SEARCH.expected_sql(sources="pg_temp.bulk_new p", scope="TRUE"), upsert=False),
    STOCK_LEVELS.insert_sql(
        STOCK_LEVELS.expected_sql(
            sources="""pg_temp.bulk_opening o JOIN products_stocklevel sl ON sl.product_id = o.product_id
              JOIN products_location l ON l.id = sl.location_id""",
            scope="TRUE",
        ),
        upsert=False,
    ),
    MOVEMENTS.insert_sql(
        f"SELECT m.* FROM pg_temp.bulk_opening o CROSS JOIN LATERAL ({_OPENING_MOVEMENT}) m", upsert=False
    ),
]
# What the import projects in single-database mode, in order: the new products' read rows,
# the touched ones refreshed, then the ledger rows the import wrote after the opening ones, in
# the read shape already (``bulk_moved``). (In split mode the worker applies its events.)
PROJECTION = [
    *NEW_PRODUCTS_PROJECTION,
    *(table.insert_sql(table.expected_sql(where)) for table, where in _REFRESHED.items()),
    MOVEMENTS.insert_sql(f"SELECT {', '.join(MOVEMENTS.column_names)} FROM pg_temp.bulk_moved", upsert=False),
]
