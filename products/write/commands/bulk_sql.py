"""The set-based SQL of ``BulkImportProducts``: staging, checks, writes.

The rows are copied into the TEMP table ``bulk_row``; every later step is one statement
over all rows (the product events and read rows: ``bulk_events_sql``). Statement
parameters: ``now`` (the one timestamp of the import), ``has_description`` and
``has_category`` (whether the file has those columns; absent ones are left alone),
``any_inactive`` and ``any_held`` (whether a location the rows name is inactive, whether
reservations hold stock there: when not, the checks for it fold away).

Every statement stays linear in the rows whatever the planner estimates: the rows this
transaction just wrote are in no statistics, and a join it plans as a nested loop over a
set it believes is one row long compares every row with every row (a 100,000-product seed
at three locations took hours). So no statement joins two sets it computes (CTEs): each
set another statement reads is a TEMP table, ANALYZEd once filled (and again once its flags
change), indexed on the keys later statements look rows up by, and ids a later statement
needs are drawn from their sequences beforehand rather than joined back from RETURNING.
"""

from products.read.tables import CATEGORIES
from products.write import rules

STAGED_COLUMNS = (
    "line", "sku", "name", "description", "category", "category_name", "price", "quantity", "location",
)  # fmt: skip

STAGE = """
    DROP TABLE IF EXISTS pg_temp.bulk_row, pg_temp.bulk_location, pg_temp.bulk_category, pg_temp.bulk_item,
                         pg_temp.bulk_product, pg_temp.bulk_stock, pg_temp.bulk_opening, pg_temp.bulk_movement,
                         pg_temp.bulk_held, pg_temp.bulk_new, pg_temp.bulk_changed, pg_temp.bulk_moved;
    CREATE TEMP TABLE bulk_row (
        line integer, sku text, name text, description text, category text, category_name text,
        price numeric(10, 2), location text, quantity integer
    ) ON COMMIT DROP;
    CREATE TEMP TABLE bulk_location (id bigint, code text, is_active boolean) ON COMMIT DROP;
    SET LOCAL work_mem = '64MB';
    SET LOCAL jit = off;
"""
COPY = f"COPY pg_temp.bulk_row ({', '.join(STAGED_COLUMNS)}) FROM STDIN"
# Each ANALYZE names only the columns later statements filter or join on: the statistics of the
# others cost as much to gather and would change no plan.
ANALYZE_ROWS = "ANALYZE pg_temp.bulk_row (sku, category, location)"

# The locations the rows name, locked as the stock commands lock them (FOR SHARE, in code
# order): a deactivation waits for the import, and the import sees one that committed before.
# Stock commands and reservations at those locations for other products do not wait: the
# import holds back only the products it may write (``LOCK_NAMED_PRODUCTS_SQL``). The answer
# (whether each takes stock) tells whether the inactive checks below are needed.
LOCK_LOCATIONS = f"""
    INSERT INTO pg_temp.bulk_location (id, code, is_active)
    SELECT id, code, is_active FROM products_location
     WHERE code IN (SELECT DISTINCT location FROM pg_temp.bulk_row) ORDER BY code FOR SHARE
    RETURNING {rules.takes_stock("bulk_location")}
"""

# The existing products the rows may write (a row with a quantity, or with details that differ
# from the product's), their rows locked in id order after the locations (``rules.LOCK_ORDER``)
# and before what reservations hold is read: placing a reservation and the stock commands take
# their products' rows too, so one naming any of these waits for the import, and ``HOLDS_SQL``
# and the stock the rows are compared with are as every one committed before left them. More
# than the import writes (``LOCK_PRODUCTS_SQL`` narrows it once the rows are checked), since
# which rows are refused, so what is written, depends on what is held; one statement, so
# two imports or an import and a batch lock them in the same order.
LOCK_NAMED_PRODUCTS_SQL = """
    SELECT count(*) FROM (
        SELECT p.id FROM products_product p LEFT JOIN products_category c ON c.id = p.category_id
         WHERE NOT p.is_archived
           AND EXISTS (SELECT FROM pg_temp.bulk_row r
                        WHERE lower(r.sku) = lower(p.sku)
                          AND (r.quantity IS NOT NULL OR r.name IS DISTINCT FROM p.name
                               OR r.price IS DISTINCT FROM p.price
                               OR (%(has_description)s AND r.description IS DISTINCT FROM p.description)
                               OR (%(has_category)s AND r.category IS DISTINCT FROM c.slug)))
         ORDER BY p.id FOR NO KEY UPDATE OF p
    ) locked
"""
# What active reservations hold at those locations, per product, as committed now (after the
# products' locks; rules.holds); the answer tells whether the held checks below are needed.
HOLDS_SQL = [
    f"""CREATE TEMP TABLE bulk_held ON COMMIT DROP AS
       SELECT h.product_id, h.location_id, sum(h.quantity) AS held FROM products_reservationline h
        WHERE {rules.holds("h")} AND h.location_id IN (SELECT id FROM pg_temp.bulk_location)
        GROUP BY h.product_id, h.location_id""",
    "CREATE INDEX ON pg_temp.bulk_held (product_id, location_id)",
    "ANALYZE pg_temp.bulk_held",
    "SELECT EXISTS (SELECT FROM pg_temp.bulk_held)",
]
# What reservations hold of the row's product at its location (none: 0).
HELD = """coalesce((SELECT h.held FROM pg_temp.bulk_held h JOIN pg_temp.bulk_location hl ON hl.id = h.location_id
           JOIN products_product hp ON hp.id = h.product_id
          WHERE lower(hp.sku) = lower(r.sku) AND hl.code = r.location), 0)"""
# A row whose quantity is below what reservations hold at its location: refused, as SetStock
# refuses it (InsufficientStockError; rules.leaves_what_is_held).
_BELOW_HELD = f"""
    %(any_held)s AND r.quantity IS NOT NULL AND NOT {rules.leaves_what_is_held("r.quantity", HELD)}"""

# A row whose quantity would change the stock at its location while that location is
# inactive: refused, as SetStock and CreateProduct refuse it.
_CHANGES_STOCK_AT_INACTIVE = f"""
    %(any_inactive)s AND r.quantity IS NOT NULL
    AND r.location IN (SELECT il.code FROM pg_temp.bulk_location il WHERE NOT {rules.takes_stock("il")})
    AND r.quantity <> coalesce(
        (SELECT s.quantity FROM products_stocklevel s
           JOIN pg_temp.bulk_location l ON l.id = s.location_id JOIN products_product sp ON sp.id = s.product_id
          WHERE lower(sp.sku) = lower(r.sku) AND l.code = r.location), 0)"""

# Categories the rows name: those that exist (available from line 0), then the ones this
# import creates, each from the first row that gives it a name (and that is not refused for
# an unknown location, an archived SKU, stock at an inactive location or below what is
# held), available from that row on: as the row-by-row import creates them.
# The new ones get their ids drawn in line order first, then are inserted with them.
CATEGORIES_SQL = [
    """CREATE TEMP TABLE bulk_category ON COMMIT DROP AS
       SELECT c.id, c.slug, 0 AS line, c.name FROM products_category c
        WHERE c.slug IN (SELECT category FROM pg_temp.bulk_row)""",
    f"""INSERT INTO pg_temp.bulk_category (id, slug, line, name)
       SELECT nextval((SELECT pg_get_serial_sequence('products_category', 'id'))::regclass), slug, line, name
         FROM (SELECT DISTINCT ON (r.category) r.category AS slug, r.category_name AS name, r.line
                 FROM pg_temp.bulk_row r
                WHERE %(has_category)s AND r.category IS NOT NULL AND r.category_name <> ''
                  AND NOT EXISTS (SELECT FROM pg_temp.bulk_category c WHERE c.slug = r.category)
                  AND r.location IN (SELECT code FROM pg_temp.bulk_location)
                  AND NOT EXISTS (SELECT FROM products_product p WHERE lower(p.sku) = lower(r.sku) AND p.is_archived)
                  AND NOT ({_CHANGES_STOCK_AT_INACTIVE}) AND NOT ({_BELOW_HELD})
                ORDER BY r.category, r.line) creators
        ORDER BY line""",
    """INSERT INTO products_category (id, slug, name, created_at, updated_at)
       SELECT id, slug, name, %(now)s, %(now)s FROM pg_temp.bulk_category WHERE line > 0 ORDER BY line""",
    "CREATE INDEX ON pg_temp.bulk_category (slug)",
    "ANALYZE pg_temp.bulk_category",
]

NEW_CATEGORIES = "c.id IN (SELECT id FROM pg_temp.bulk_category WHERE line > 0)"
CATEGORY_EVENTS_SQL = f"""
    INSERT INTO products_event (type, product_id, payload, created_at)
    SELECT 'CategoryCreated', NULL, jsonb_build_object('slug', e.slug, 'category', {CATEGORIES.api_json("e")}), %(now)s
      FROM ({CATEGORIES.expected_sql(NEW_CATEGORIES)}) e JOIN pg_temp.bulk_category b ON b.slug = e.slug
     ORDER BY b.line
"""

# The import's new products open with their stock at main, as CreateProduct's do.
MAIN_ID = "(SELECT id FROM products_location WHERE code = 'main')"

# A new product's id is time-ordered (UUID version 7, RFC 9562): the import's millisecond, its
# line as a counter (modulo 2^26), then 48 random bits. The import's products get neighbouring
# ids in line order, so each index keyed by product id takes them page after page instead of
# on a random page each (200,000 read_product rows: 3.3 s in id order, 5.3 s in random order).
NEW_PRODUCT_ID = """(lpad(to_hex((extract(epoch FROM %(now)s) * 1000)::bigint), 12, '0') || '7'
    || lpad(to_hex((line >> 14) & 4095), 3, '0') || to_hex(8 | ((line >> 12) & 3))
    || lpad(to_hex(line & 4095), 3, '0') || right(gen_random_uuid()::text, 12))::uuid"""

# ``bulk_product`` once filled, and again after its flags change: only the columns later
# statements filter or join on (the others' statistics cost as much to gather and would
# change no plan).
ANALYZE_PRODUCTS = "ANALYZE pg_temp.bulk_product (key, line, product_id, existing_id, details_changed, stock_changed)"

# Each row checked as the row-by-row import checks it: its location must exist, its SKU must
# not be archived, its category must exist by its line, an inactive location takes no new
# stock (a quantity that changes nothing is fine), and the stock there cannot be set below
# what reservations hold. ``key`` (the SKU regardless of case) sorts in "C" order: fast.
ITEMS_SQL = [
    f"""CREATE TEMP TABLE bulk_item ON COMMIT DROP AS
       SELECT r.*, lower(r.sku) COLLATE "C" AS key, p.id AS existing_id, b.id AS category_id, l.id AS location_id,
              CASE WHEN l.id IS NULL THEN 'location'
                   WHEN p.is_archived THEN 'archived'
                   WHEN %(has_category)s AND r.category IS NOT NULL AND (b.id IS NULL OR b.line > r.line)
                        -- a row that names a new category fails on its stock first, as row by row
                        AND NOT (r.category_name <> '' AND ({_CHANGES_STOCK_AT_INACTIVE} OR {_BELOW_HELD}))
                   THEN 'category'
                   WHEN {_CHANGES_STOCK_AT_INACTIVE}
                   THEN CASE WHEN p.id IS NULL AND r.location = 'main' THEN 'inactive new' ELSE 'inactive' END
                   WHEN {_BELOW_HELD} THEN 'held'
                   END AS error
         FROM pg_temp.bulk_row r
         LEFT JOIN products_product p ON lower(p.sku) = lower(r.sku)
         LEFT JOIN pg_temp.bulk_category b ON b.slug = r.category
         LEFT JOIN pg_temp.bulk_location l ON l.code = r.location""",
    # Only the columns later statements filter or join on: the others' statistics cost as much
    # to gather and would change no plan.
    "ANALYZE pg_temp.bulk_item (key, line, error, quantity, location_id)",
    # One product per SKU: the last good row's details, the first good row's spelling of the
    # SKU and location (a new product whose first row is at main opens with its stock there),
    # in one pass over the rows sorted by SKU, last row first.
    f"""CREATE TEMP TABLE bulk_product ON COMMIT DROP AS
       SELECT DISTINCT ON (key) key, line, last_value(sku) OVER by_sku AS sku, name, description, category_id, price,
              existing_id, last_value(location_id) OVER by_sku AS first_location_id,
              coalesce(existing_id, {NEW_PRODUCT_ID}) AS product_id, false AS details_changed, false AS stock_changed
         FROM pg_temp.bulk_item WHERE error IS NULL
       WINDOW by_sku AS (PARTITION BY key ORDER BY line DESC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ORDER BY key, line DESC""",
    "CREATE INDEX ON pg_temp.bulk_product (product_id)",
    ANALYZE_PRODUCTS,
    # One stock per product and location: the last quantity given there (an empty one leaves
    # the stock as the rows before left it), from that row's line. ``opening``: a new
    # product's stock at main, when its first row is at main (CreateProduct's initial stock);
    # ``changed``: any other that differs from the stock there (no row: 0).
    f"""CREATE TEMP TABLE bulk_stock ON COMMIT DROP AS
       SELECT DISTINCT ON (key, location_id) *, NOT opening AND quantity <> before AS changed
         FROM (SELECT i.key, i.location_id, i.line, i.quantity, b.product_id, b.existing_id,
                      b.existing_id IS NULL AND i.location_id = b.first_location_id
                                            AND i.location_id = {MAIN_ID} AS opening,
                      coalesce(l.quantity, 0) AS before
                 FROM pg_temp.bulk_item i JOIN pg_temp.bulk_product b USING (key)
                 LEFT JOIN products_stocklevel l ON l.product_id = b.existing_id AND l.location_id = i.location_id
                WHERE i.error IS NULL AND i.quantity IS NOT NULL) s
        ORDER BY key, location_id, line DESC""",
    "ANALYZE pg_temp.bulk_stock (key, location_id, line, product_id, existing_id, opening, changed)",
]
ERRORS_SQL = f"""
    SELECT line, error, sku, category, location, quantity, CASE WHEN error = 'held' THEN {HELD} END
      FROM pg_temp.bulk_item r WHERE error IS NOT NULL ORDER BY line
"""

# An existing product ``p`` whose details differ from its ``bulk_product`` row ``b``.
_DETAILS_DIFFER = """(p.name <> b.name OR p.price <> b.price
                OR (%(has_description)s AND p.description <> b.description)
                OR (%(has_category)s AND p.category_id IS DISTINCT FROM b.category_id))"""

# The existing products the import writes (details that differ, or a stock that changes),
# their rows locked in id order before any is written, as the stock commands lock products'
# rows (``common.lock_products``). ``LOCK_NAMED_PRODUCTS_SQL`` locked them already, unless a
# product's details or SKU changed while the import ran: this one locks such a product in
# id order too, before the UPDATEs below, which then find them all locked.
LOCK_PRODUCTS_SQL = f"""
    SELECT count(*) FROM (
        SELECT p.id FROM products_product p JOIN pg_temp.bulk_product b ON b.existing_id = p.id
         WHERE NOT p.is_archived
           AND ({_DETAILS_DIFFER} OR b.key IN (SELECT key FROM pg_temp.bulk_stock WHERE changed))
         ORDER BY p.id FOR NO KEY UPDATE OF p
    ) locked
"""

# Existing products whose details differ: version + 1, as UpdateProductDetails does.
UPDATE_DETAILS_SQL = f"""
    WITH changed AS (
        UPDATE products_product p
           SET name = b.name, price = b.price,
               description = CASE WHEN %(has_description)s THEN b.description ELSE p.description END,
               category_id = CASE WHEN %(has_category)s THEN b.category_id ELSE p.category_id END,
               version = p.version + 1, updated_at = %(now)s
          FROM pg_temp.bulk_product b
         WHERE p.id = b.existing_id AND NOT p.is_archived  -- re-checked on the latest row after a wait
           AND {_DETAILS_DIFFER}
        RETURNING p.id
    )
    UPDATE pg_temp.bulk_product b SET details_changed = true FROM changed WHERE b.product_id = changed.id
"""

# The opening ledger row of the new product ``o`` (a row of ``bulk_opening``), as CreateProduct
# writes it: the ledger INSERT and the ProductCreated payloads both take it from here.
OPENING_MOVEMENT = f"""
    SELECT o.movement_id AS id, o.product_id, {MAIN_ID} AS location_id, o.quantity AS delta,
           o.quantity AS quantity_after, 'initial stock'::varchar AS reason, NULL::varchar AS reference,
           %(now)s::timestamptz AS created_at, NULL::integer AS created_by_id"""

# New products, their opening stock at main and opening ledger rows, as CreateProduct writes
# them. ``bulk_opening`` lists them in line order, with the ids of their ledger rows and of
# their ProductCreated events drawn from the sequences in that order: the statements after it
# need not sort what they write (the log is read in the order of its ids). ``changes``: how
# many of its stocks the rows then set elsewhere. A new product is written once, with the
# version those changes leave it at (1 + changes, as CreateProduct then a SetStock per change
# would): no other transaction sees it before the import commits, so the per-change version
# bump existing products get (their lock) would only write each row twice, and its row would
# be checked against its category twice at commit.
CREATE_SQL = [
    """CREATE TEMP TABLE bulk_opening ON COMMIT DROP AS
       SELECT o.*, nextval((SELECT pg_get_serial_sequence('products_stockmovement', 'id'))::regclass) AS movement_id,
              nextval((SELECT pg_get_serial_sequence('products_event', 'id'))::regclass) AS event_id
         FROM (SELECT b.product_id, b.line, b.sku, b.name, b.description, b.category_id, b.price,
                      coalesce(s.quantity, 0) AS quantity, coalesce(s.changes, 0) AS changes
                 FROM pg_temp.bulk_product b
                 LEFT JOIN (SELECT key, max(quantity) FILTER (WHERE opening) AS quantity,
                                   count(*) FILTER (WHERE changed) AS changes
                              FROM pg_temp.bulk_stock WHERE existing_id IS NULL GROUP BY key) s ON s.key = b.key
                WHERE b.existing_id IS NULL ORDER BY b.line) o""",
    """INSERT INTO products_product (id, sku, name, description, category_id, price, reorder_point, version,
                                     is_archived, created_at, updated_at)
       SELECT product_id, sku, name, coalesce(description, ''), category_id, price, 0, 1 + changes, false,
              %(now)s, %(now)s
         FROM pg_temp.bulk_opening""",
    f"""INSERT INTO products_stocklevel (product_id, location_id, quantity)
        SELECT product_id, {MAIN_ID}, quantity FROM pg_temp.bulk_opening""",
    f"""INSERT INTO products_stockmovement
              (id, product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
       SELECT m.* FROM pg_temp.bulk_opening o CROSS JOIN LATERAL ({OPENING_MOVEMENT}) m""",
]

# Stock the rows set that differs from the stock there (``changed``): lock each existing
# product (version + 1 per change, as SetStock bumps it per command) first, then set the stock
# from the quantity as it is under that lock, with one "import" ledger row each (SetStock), in
# the rows' order. New products have their final version already (``bulk_opening``).
LOCK_STOCK_CHANGES_SQL = """
    WITH changed AS (
        UPDATE products_product p SET version = p.version + c.changes, updated_at = %(now)s
          FROM (SELECT product_id, count(*) AS changes FROM pg_temp.bulk_stock
                 WHERE changed AND existing_id IS NOT NULL GROUP BY product_id) c
         WHERE p.id = c.product_id AND NOT p.is_archived
        RETURNING p.id
    )
    UPDATE pg_temp.bulk_product b SET stock_changed = true
      FROM (SELECT id FROM changed UNION ALL SELECT product_id FROM pg_temp.bulk_opening WHERE changes > 0) c
     WHERE b.product_id = c.id
"""
# ``bulk_movement``: the changes, each with the id of its ledger row, drawn in line order.
SET_STOCK_SQL = [
    """CREATE TEMP TABLE bulk_movement ON COMMIT DROP AS
       SELECT nextval((SELECT pg_get_serial_sequence('products_stockmovement', 'id'))::regclass) AS id, c.*
         FROM (SELECT s.product_id, s.location_id, s.line, s.quantity, coalesce(l.quantity, 0) AS before
                 FROM pg_temp.bulk_stock s JOIN pg_temp.bulk_product b USING (key)
                 LEFT JOIN products_stocklevel l ON l.product_id = s.product_id AND l.location_id = s.location_id
                WHERE s.changed AND b.stock_changed ORDER BY s.line) c""",
    """INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
       SELECT product_id, location_id, quantity FROM pg_temp.bulk_movement
           ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = EXCLUDED.quantity""",
    """INSERT INTO products_stockmovement
              (id, product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
       SELECT id, product_id, location_id, quantity - before, quantity, 'import', NULL, %(now)s, NULL
         FROM pg_temp.bulk_movement""",
    "CREATE INDEX ON pg_temp.bulk_movement (id)",
    "ANALYZE pg_temp.bulk_movement (id, product_id, line)",
]


COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE existing_id IS NULL),
           count(*) FILTER (WHERE existing_id IS NOT NULL AND (details_changed OR stock_changed)),
           count(*) FILTER (WHERE existing_id IS NOT NULL AND NOT details_changed AND NOT stock_changed)
      FROM pg_temp.bulk_product
"""
