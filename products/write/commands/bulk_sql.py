"""The set-based SQL of ``BulkImportProducts``: staging, checks, writes, event payloads.

The rows are copied into the TEMP table ``bulk_row``; every later step is one statement
over all rows. Payloads are built in SQL with the shapes ``products.read.tables`` defines
(the same ones ``event_log.payload_of`` renders from ``representation``: ``api_json``).
Statement parameters: ``now`` (the one timestamp of the import), ``has_description`` and
``has_category`` (whether the file has those columns; absent ones are left alone).
"""

from products.read.tables import CATEGORIES, MOVEMENTS, PRODUCTS, SEARCH, STOCK_LEVELS

STAGED_COLUMNS = ("line", "sku", "name", "description", "category", "category_name", "price", "quantity")

STAGE = """
    DROP TABLE IF EXISTS pg_temp.bulk_row, pg_temp.bulk_category, pg_temp.bulk_item,
                         pg_temp.bulk_product, pg_temp.bulk_movement;
    CREATE TEMP TABLE bulk_row (
        line integer, sku text, name text, description text, category text, category_name text,
        price numeric(10, 2), quantity integer
    ) ON COMMIT DROP;
    CREATE TEMP TABLE bulk_movement (id bigint, product_id uuid, opening boolean) ON COMMIT DROP;
    SET LOCAL work_mem = '64MB';
    SET LOCAL jit = off;
"""
COPY = f"COPY pg_temp.bulk_row ({', '.join(STAGED_COLUMNS)}) FROM STDIN"
ANALYZE_ROWS = "ANALYZE pg_temp.bulk_row"


# A row whose quantity would change the stock at main while main is inactive: refused, as
# SetStock and CreateProduct refuse it (``main_active`` comes from LOCK_MAIN).
_CHANGES_STOCK_AT_INACTIVE_MAIN = """
    NOT %(main_active)s AND r.quantity IS NOT NULL AND r.quantity <> coalesce(
        (SELECT s.quantity FROM products_stocklevel s
           JOIN products_location l ON l.id = s.location_id JOIN products_product sp ON sp.id = s.product_id
          WHERE lower(sp.sku) = lower(r.sku) AND l.code = 'main'), 0)"""

# Categories the rows name: those that exist (available from line 0), then the ones this
# import creates, each from the first row that gives it a name (and that is not refused for
# an archived SKU or stock at an inactive main), available from that row on: as the
# row-by-row import creates them.
CATEGORIES_SQL = [
    """CREATE TEMP TABLE bulk_category ON COMMIT DROP AS
       SELECT c.id, c.slug, 0 AS line FROM products_category c
        WHERE c.slug IN (SELECT category FROM pg_temp.bulk_row)""",
    f"""WITH creators AS (
           SELECT DISTINCT ON (r.category) r.category AS slug, r.category_name AS name, r.line
             FROM pg_temp.bulk_row r
            WHERE %(has_category)s AND r.category IS NOT NULL AND r.category_name <> ''
              AND r.category NOT IN (SELECT slug FROM pg_temp.bulk_category)
              AND lower(r.sku) NOT IN (SELECT lower(sku) FROM products_product WHERE is_archived)
              AND NOT ({_CHANGES_STOCK_AT_INACTIVE_MAIN})
            ORDER BY r.category, r.line
       ), created AS (
           INSERT INTO products_category (slug, name, created_at, updated_at)
           SELECT slug, name, %(now)s, %(now)s FROM creators ORDER BY line
           RETURNING id, slug
       )
       INSERT INTO pg_temp.bulk_category (id, slug, line)
       SELECT created.id, created.slug, creators.line FROM created JOIN creators USING (slug)""",
]

_NEW_CATEGORIES = "c.id IN (SELECT id FROM pg_temp.bulk_category WHERE line > 0)"
CATEGORY_EVENTS_SQL = f"""
    INSERT INTO products_event (type, product_id, payload, created_at)
    SELECT 'CategoryCreated', NULL, jsonb_build_object('slug', e.slug, 'category', {CATEGORIES.api_json("e")}), %(now)s
      FROM ({CATEGORIES.expected_sql(_NEW_CATEGORIES)}) e JOIN pg_temp.bulk_category b ON b.slug = e.slug
     ORDER BY b.line
"""

# Stock is imported at main: lock its row as the stock commands do (a deactivation waits for
# the import, and the import sees one that committed before); ``main_active`` is the answer.
LOCK_MAIN = "SELECT is_active FROM products_location WHERE code = 'main' FOR SHARE"

# Each row checked as the row-by-row import checks it: its SKU must not be archived, its
# category must exist by its line, and an inactive main takes no new stock (a quantity that
# changes nothing is fine). ``key`` (the SKU regardless of case) sorts in "C" order: fast.
ITEMS_SQL = [
    f"""CREATE TEMP TABLE bulk_item ON COMMIT DROP AS
       SELECT r.*, lower(r.sku) COLLATE "C" AS key, p.id AS existing_id, b.id AS category_id,
              CASE WHEN p.is_archived THEN 'archived'
                   WHEN %(has_category)s AND r.category IS NOT NULL AND (b.id IS NULL OR b.line > r.line)
                        -- a row that names a new category fails on its stock first, as row by row
                        AND NOT (r.category_name <> '' AND {_CHANGES_STOCK_AT_INACTIVE_MAIN})
                   THEN 'category'
                   WHEN {_CHANGES_STOCK_AT_INACTIVE_MAIN}
                   THEN CASE WHEN p.id IS NULL THEN 'inactive new' ELSE 'inactive' END
                   END AS error
         FROM pg_temp.bulk_row r
         LEFT JOIN products_product p ON lower(p.sku) = lower(r.sku)
         LEFT JOIN pg_temp.bulk_category b ON b.slug = r.category""",
    # One product per SKU: the last good row's values, the first good row's spelling of the
    # SKU, and the last quantity given (an empty one leaves the stock as the rows before left it).
    """CREATE TEMP TABLE bulk_product ON COMMIT DROP AS
       SELECT DISTINCT ON (key) key, line, sku, name, description, category_id, price, quantity, existing_id,
              coalesce(existing_id, gen_random_uuid()) AS product_id,
              false AS details_changed, false AS stock_changed
         FROM pg_temp.bulk_item WHERE error IS NULL ORDER BY key, line DESC""",
    """UPDATE pg_temp.bulk_product b SET sku = d.sku, quantity = coalesce(b.quantity, d.quantity)
         FROM (SELECT key, (array_agg(sku ORDER BY line))[1] AS sku,
                      (array_agg(quantity ORDER BY line DESC) FILTER (WHERE quantity IS NOT NULL))[1] AS quantity
                 FROM pg_temp.bulk_item
                WHERE error IS NULL AND key IN (
                      SELECT key FROM pg_temp.bulk_item WHERE error IS NULL GROUP BY key HAVING count(*) > 1)
                GROUP BY key) d
        WHERE d.key = b.key""",
    "ANALYZE pg_temp.bulk_product",
]
ERRORS_SQL = "SELECT line, error, sku, category FROM pg_temp.bulk_item WHERE error IS NOT NULL ORDER BY line"

# Existing products whose details differ: version + 1 (which locks the row, as every writer
# does first), as UpdateProductDetails does.
UPDATE_DETAILS_SQL = """
    WITH changed AS (
        UPDATE products_product p
           SET name = b.name, price = b.price,
               description = CASE WHEN %(has_description)s THEN b.description ELSE p.description END,
               category_id = CASE WHEN %(has_category)s THEN b.category_id ELSE p.category_id END,
               version = p.version + 1, updated_at = %(now)s
          FROM pg_temp.bulk_product b
         WHERE p.id = b.existing_id AND NOT p.is_archived  -- re-checked on the latest row after a wait
           AND (p.name <> b.name OR p.price <> b.price
                OR (%(has_description)s AND p.description <> b.description)
                OR (%(has_category)s AND p.category_id IS DISTINCT FROM b.category_id))
        RETURNING p.id
    )
    UPDATE pg_temp.bulk_product b SET details_changed = true FROM changed WHERE b.product_id = changed.id
"""

# The import's stock is at the main location, as SetStock's and CreateProduct's default.
MAIN_ID = "(SELECT id FROM products_location WHERE code = 'main')"

# Existing products whose quantity at main differs (no row there: 0): lock them (version + 1)
# first, then set the stock at main from the quantity as it is under that lock, with one
# "import" ledger row each (SetStock).
LOCK_STOCK_CHANGES_SQL = f"""
    WITH changed AS (
        UPDATE products_product p SET version = p.version + 1, updated_at = %(now)s
          FROM pg_temp.bulk_product b
          LEFT JOIN products_stocklevel s ON s.product_id = b.existing_id AND s.location_id = {MAIN_ID}
         WHERE p.id = b.existing_id AND NOT p.is_archived AND b.quantity <> coalesce(s.quantity, 0)
        RETURNING p.id
    )
    UPDATE pg_temp.bulk_product b SET stock_changed = true FROM changed WHERE b.product_id = changed.id
"""
SET_STOCK_SQL = f"""
    WITH current AS (
        SELECT b.product_id, b.line, b.quantity, coalesce(s.quantity, 0) AS before
          FROM pg_temp.bulk_product b
          LEFT JOIN products_stocklevel s ON s.product_id = b.product_id AND s.location_id = {MAIN_ID}
         WHERE b.stock_changed
    ), stock AS (
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product_id, {MAIN_ID}, quantity FROM current
            ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = EXCLUDED.quantity
    ), movement AS (
        INSERT INTO products_stockmovement
               (product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
        SELECT product_id, {MAIN_ID}, quantity - before, quantity, 'import', NULL, %(now)s, NULL
          FROM current ORDER BY line
        RETURNING id, product_id
    )
    INSERT INTO pg_temp.bulk_movement (id, product_id, opening) SELECT id, product_id, false FROM movement
"""

# New products, their stock and opening ledger rows, as CreateProduct writes them.
CREATE_SQL = [
    """INSERT INTO products_product (id, sku, name, description, category_id, price, reorder_point, version,
                                     is_archived, created_at, updated_at)
       SELECT product_id, sku, name, coalesce(description, ''), category_id, price, 0, 1, false, %(now)s, %(now)s
         FROM pg_temp.bulk_product WHERE existing_id IS NULL ORDER BY line""",
    f"""INSERT INTO products_stocklevel (product_id, location_id, quantity)
        SELECT product_id, {MAIN_ID}, coalesce(quantity, 0) FROM pg_temp.bulk_product WHERE existing_id IS NULL""",
    f"""WITH movement AS (
           INSERT INTO products_stockmovement
                  (product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
           SELECT product_id, {MAIN_ID}, coalesce(quantity, 0), coalesce(quantity, 0), 'initial stock', NULL,
                  %(now)s, NULL
             FROM pg_temp.bulk_product WHERE existing_id IS NULL ORDER BY line
           RETURNING id, product_id
       )
       INSERT INTO pg_temp.bulk_movement (id, product_id, opening) SELECT id, product_id, true FROM movement""",
]


def _product_events(event_type, which, fields="", movements=""):
    """Return an INSERT of one ``event_type`` per product of ``bulk_product`` matching ``which``.

    The products' and ledger rows' states are computed once each (MATERIALIZED): the rows
    this transaction just wrote are not in the planner's statistics yet, and a state
    subquery planned as the inner side of a nested loop would be recomputed per row.
    """
    products = PRODUCTS.expected_sql(f"p.id IN (SELECT product_id FROM pg_temp.bulk_product WHERE {which})")
    steps, join = [f"e AS MATERIALIZED ({products})"], ""
    if movements:
        steps.append(f"m AS MATERIALIZED ({MOVEMENTS.expected_sql(movements)})")
        join = "JOIN m ON m.product_id = e.id"
    return f"""
        WITH {", ".join(steps)}
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT '{event_type}', e.id,
               jsonb_build_object('product_id', e.id::text, 'product', {PRODUCTS.api_json("e")}{fields}), %(now)s
          FROM e JOIN pg_temp.bulk_product b ON b.product_id = e.id {join}
         ORDER BY b.line
    """


DETAILS_EVENTS_SQL = _product_events("ProductDetailsUpdated", "details_changed")
STOCK_EVENTS_SQL = _product_events(
    "StockSet",
    "stock_changed",
    fields=(
        ", 'movement_id', m.id, 'location', m.location, 'delta', m.delta, 'quantity', e.quantity,"
        f" 'movement', {MOVEMENTS.api_json('m')}"
    ),
    movements="m.id IN (SELECT id FROM pg_temp.bulk_movement WHERE NOT opening)",
)
CREATED_EVENTS_SQL = _product_events(
    "ProductCreated",
    "existing_id IS NULL",
    fields=f", 'movements', jsonb_build_array({MOVEMENTS.api_json('m')})",
    movements="m.id IN (SELECT id FROM pg_temp.bulk_movement WHERE opening)",
)

COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE existing_id IS NULL),
           count(*) FILTER (WHERE details_changed OR stock_changed),
           count(*) FILTER (WHERE existing_id IS NOT NULL AND NOT details_changed AND NOT stock_changed)
      FROM pg_temp.bulk_product
"""

# What the same-transaction projector refreshes (single-database mode): the touched rows only.
PROJECTED = {
    CATEGORIES: _NEW_CATEGORIES,
    PRODUCTS: "p.id IN (SELECT product_id FROM pg_temp.bulk_product WHERE details_changed OR stock_changed"
    " OR existing_id IS NULL)",
    SEARCH: "p.id IN (SELECT product_id FROM pg_temp.bulk_product WHERE details_changed OR existing_id IS NULL)",
    STOCK_LEVELS: "sl.product_id IN (SELECT product_id FROM pg_temp.bulk_movement)",
    MOVEMENTS: "m.id IN (SELECT id FROM pg_temp.bulk_movement)",
}
