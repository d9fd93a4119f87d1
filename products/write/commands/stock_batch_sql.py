"""The statement of the multi-line stock commands (``products.write.commands.stock_batches``).

One statement after the one that takes the lines' locks (so it reads with a fresh snapshot):
it reads every line (``STOCK_LINES_STEPS``) and says whether each may be applied; when every
one may, it applies them all as that many single stock commands would, one after the other:
each product's version goes up by its number of lines, each line gets its ledger row and its
``StockAdjusted`` or ``StockSet`` event, in line order, with the state of the product after
that line (several lines may name one product, at different locations), each followed by its
``StockLow`` when it took the product low; in single-database mode it projects them (the
product's read row as its last line left it). When any line may not, it writes nothing.
Payloads are the single stock statement's (``stock_sql``); the rules it keeps (never below what
is held, StockLow) are ``products.write.rules``'; the read rows it projects are the read side's
(``products.events.in_statement``).
"""

import functools

from products import events
from products.events import in_statement
from products.read.tables import MOVEMENTS, PRODUCTS
from products.write import rules
from products.write.commands.common import STOCK_LINES_STEPS
from products.write.commands.stock_sql import states_after_each_line, stock_event_payload

# The statement's estimated cost grows with its lines past the point where PostgreSQL compiles
# it with JIT (jit_above_cost, 100,000 by default; 500,000 also optimizes and inlines): that
# compilation alone costs hundreds of ms to seconds, more than running it. Until the command's
# transaction ends.
NO_JIT = "SET LOCAL jit = off"

# The lines a batch applies (``change``), each with its product's quantity before them (``total``),
# and what ``step`` keeps of each; its quantity after all of them: that plus their changes.
LINES_WITH_TOTAL = "change c JOIN total t USING (product_id)"
STEP_COLUMNS = "c.n, c.product_id, c.location, c.delta, c.counted"
TOTAL_AFTER_LINES = "t.before + sum(c.delta) OVER product"


@functools.cache  # built once per mode and kind
def statement(*, project, signal_low):
    """Return the statement; parameters: ``STOCK_LINES_STEPS``'s, ``max_quantity``, ``now``, the ledger's fields.

    It answers every line, in order, with what it read (``known``, ``location_id``,
    ``on_hand``, ``reserved``), the quantity it leaves there (``after``) and whether it may
    be applied (``ok``). ``signal_low``: append StockLow when a line takes its product low.
    """
    # The product's read row after each line (``s``, a row of ``step``), with the line's number.
    state = PRODUCTS.expected_sql(
        sources="step s JOIN product p ON p.id = s.product_id LEFT JOIN products_category c ON c.id = p.category_id",
        scope="TRUE",
        overrides={"version": "p.version - s.lines_after"},
        extra=("s.n AS n",),
    )
    ledger = MOVEMENTS.expected_sql(sources="movement m JOIN location l ON l.id = m.location_id", scope="TRUE")
    low = ""
    if signal_low:
        # A removal's: the step's quantity is the product's total after its line.
        taken = "SELECT s.product_id, -s.delta AS taken, s.quantity, s.n FROM step s WHERE s.delta < 0"
        available = f"t.quantity - {rules.held('p.id')}"
        low = f"UNION ALL {rules.stock_low_rows(taken, available, extra=', t.n, 1')}"
    projection = ""
    if project:
        projection = f""", final AS (
        -- Each product's read row as its last line left it.
        SELECT DISTINCT ON (id) * FROM state ORDER BY id, n DESC
    ),{in_statement.steps(events.StockAdjusted, products="final", movements="ledger")}"""
    return f"""
    WITH {STOCK_LINES_STEPS}, checked AS MATERIALIZED (
        -- The quantity each line leaves at its location, and whether it may: a known product, an
        -- active location, no less than what active reservations hold there, no more than the limit.
        SELECT line.*, a.after,
               line.known AND line.location_id IS NOT NULL
               AND {rules.leaves_what_is_held("a.after", "line.reserved")} AND a.after <= %(max_quantity)s AS ok
          FROM line CROSS JOIN LATERAL (
               SELECT CASE WHEN line.counted IS NULL THEN line.on_hand + line.amount ELSE line.counted END AS after) a
    ), change AS MATERIALIZED (
        -- Every line if every one may be applied; none otherwise.
        SELECT checked.*, checked.after - checked.on_hand AS delta
          FROM checked WHERE (SELECT bool_and(ok) FROM checked)
    ), product AS (
        -- A version per line, as a stock command per line would bump it (the locks are held).
        UPDATE products_product p SET version = p.version + c.lines, updated_at = %(now)s
          FROM (SELECT product_id, count(*) AS lines FROM change GROUP BY product_id) c
         WHERE p.id = c.product_id
        RETURNING p.*
    ), updated AS (
        -- The quantity each line leaves where the product has a row there. No reservation can be
        -- placed or extended while the products' locks are held, and ``checked`` read what they
        -- hold after the locks, so no line goes below it; out of bounds aborts it (CHECK).
        UPDATE products_stocklevel s SET quantity = c.after
          FROM change c WHERE s.product_id = c.product_id AND s.location_id = c.location_id
        RETURNING s.product_id, s.location_id, s.quantity
    ), added AS (
        -- And a first row where it has none (no other writer adds one while the locks are held).
        INSERT INTO products_stocklevel (product_id, location_id, quantity)
        SELECT c.product_id, c.location_id, c.after FROM change c
         WHERE NOT EXISTS (SELECT FROM products_stocklevel s
                            WHERE s.product_id = c.product_id AND s.location_id = c.location_id)
        RETURNING product_id, location_id, quantity
    ), stock AS (
        SELECT * FROM updated UNION ALL SELECT * FROM added
    ), total AS (
        -- Each product's quantity over its locations before the lines, as this statement's
        -- snapshot has it: taken after the products' row locks (lock_products), so it holds what
        -- every earlier writer of their stock left, at the lines' locations and at the others.
        -- A lookup per product (a join is planned as a scan of every stock row when the table
        -- is small or its statistics old: its cost would grow with the table, not the lines).
        SELECT c.product_id,
               (SELECT coalesce(sum(sl.quantity), 0) FROM products_stocklevel sl WHERE sl.product_id = c.product_id)
               AS before
          FROM (SELECT DISTINCT product_id FROM change) c
    ), step AS MATERIALIZED (
        -- After each line: the product's quantity, and how many of its lines come later.
        {states_after_each_line(LINES_WITH_TOTAL, order="c.n", total=TOTAL_AFTER_LINES, columns=STEP_COLUMNS)}
    ), movement AS (
        -- The ledger rows, in line order.
        INSERT INTO products_stockmovement
               (product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
        SELECT s.product_id, s.location_id, c.delta, s.quantity, %(reason)s, %(reference)s, %(now)s, %(actor_id)s
          FROM stock s JOIN change c USING (product_id, location_id) ORDER BY c.n
        RETURNING *
    ), ledger AS MATERIALIZED (
        -- The ledger rows' read rows.
        {ledger}
    ), state AS MATERIALIZED (
        -- The product's read row after each line.
        {state}
    ), event AS (
        -- The lines' events in line order, each with the state its line left, and right after it its StockLow.
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT type, product_id, payload, created_at FROM (
            SELECT CASE WHEN s.counted IS NULL THEN 'StockAdjusted' ELSE 'StockSet' END AS type,
                   state.id AS product_id, {stock_event_payload("state", "ledger")} AS payload, %(now)s AS created_at,
                   state.n, 0 AS low
              FROM state JOIN step s ON s.n = state.n
              JOIN ledger ON ledger.product_id = state.id AND ledger.location = s.location
            {low}
        ) events ORDER BY n, low
    ){projection}
    SELECT product_id, location, amount, counted, known, location_id, on_hand, reserved, after, ok
      FROM checked ORDER BY n
    """
