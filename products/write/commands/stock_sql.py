"""The statements of the stock commands, and what the other stock statements share with them.

``adjust_sql`` is AdjustStock's one statement; ``LOCK_LOCATION_AND_BUMP`` and ``set_sql``
SetStock's two (see ``products.write.commands.stock`` for the rules they keep). The payload of
a stock event and the states a change of several lines leaves after each line are shared with
the reservations' and the batches' statements (``reservation_sql``, ``stock_batch_sql``). The rules they
include (what is held, never below it, StockLow, the lock order, active locations) are
``products.write.rules``'; the read rows they project are the read side's
(``products.events.in_statement``).
"""

import functools

from products import events
from products.events import in_statement
from products.read.tables import MOVEMENTS, PRODUCTS, product_select
from products.write import rules
from products.write.commands.common import PRODUCT_LOCK_STEP, VERSION_MATCHES

# What a product has reserved, over its locations, as a statement of a stock command sees it.
HELD_BY_PRODUCT = rules.held("p.id")


def stock_event_payload(state, ledger):
    """Return the SQL payload of a stock event: its fields, the product's read row ``state``, its ledger row's."""
    return (
        f"jsonb_build_object('product_id', {state}.id::text, 'movement_id', {ledger}.id, 'location', {ledger}.location,"
        f" 'delta', {ledger}.delta, 'quantity', {state}.quantity, 'product', {PRODUCTS.api_json(state)},"
        f" 'movement', {MOVEMENTS.api_json(ledger)})"
    )


def states_after_each_line(lines, *, order, total, columns):
    """Return a SELECT of a product's state after each line of a change of several lines at once.

    What applying the lines one at a time, in ``order``, leaves after each, as separate
    commands would (a batch's lines, each its own stock statement): ``lines`` is the change's
    rows as ``c``, one per line and (product, location), each with the line's ``product_id``
    and ``delta``; ``total`` the product's quantity over its locations after all its lines,
    over ``c`` and the window ``product`` (its lines). Each row: ``columns`` of ``c``, the
    product's ``quantity`` after that line (``total`` less the lines after it) and
    ``lines_after``, how many of the product's lines come after it: with one version per
    line, its version after the line is its final version less that. The lines' events then
    carry states that follow one another, and a consumer that applies them in order ends at
    the product as the change left it.
    """
    return f"""SELECT {columns},
               ({total} - coalesce(sum(c.delta) OVER later, 0))::bigint AS quantity,
               count(*) OVER later AS lines_after
          FROM {lines}
        WINDOW product AS (PARTITION BY c.product_id),
               later AS (PARTITION BY c.product_id ORDER BY {order} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"""


# The location where the stock changes, if it takes stock, locked FOR SHARE after the product's
# lock (it joins ``locked``): this row lock gives the transaction its id. A concurrent
# deactivation waits for this change to commit; a change that waited for a deactivation
# re-checks the latest row (FOR SHARE does) and finds none: no row, nothing written.
LOCATION_STEP = f"""
    location AS MATERIALIZED (
        SELECT l.id, l.code FROM products_location l, locked
         WHERE l.code = %(location)s AND {rules.takes_stock("l")} FOR SHARE OF l
    )"""

# Lock the product, then the location, then bump the product's version (rules.LOCK_ORDER), each
# step reading the one before. The UPDATE locks the product's row and compares If-Match in
# itself, so two writers holding the same ETag cannot both succeed; no location, no bump.
LOCK_LOCATION_AND_BUMP_STEPS = f"""
    {PRODUCT_LOCK_STEP},{LOCATION_STEP},
    product AS (
        UPDATE products_product p SET version = p.version + 1, updated_at = %(now)s
          FROM location
         WHERE p.id = %(product_id)s AND NOT p.is_archived AND {VERSION_MATCHES}
        RETURNING p.*
    )"""

# SetStock's first statement: those steps alone. A row back: the product is locked and bumped.
LOCK_LOCATION_AND_BUMP = f"WITH {LOCK_LOCATION_AND_BUMP_STEPS} SELECT count(*) AS bumped FROM product"


def _statement(product_steps, stock_step, event_type, *, project):
    """Return the statement of a stock command, around its own ``product`` and ``stock`` steps.

    ``product_steps`` leave the locked, bumped product row in ``product`` and the locked
    location (``id``, ``code``) in ``location``; ``stock_step`` changes the product's stock
    level at that location and returns ``product_id``, ``location_id``, ``quantity`` (there)
    and ``delta``. Parameter ``signal_low``: append StockLow when a removal takes the product low.
    """
    state = PRODUCTS.expected_sql(
        sources="product p CROSS JOIN total s LEFT JOIN products_category c ON c.id = p.category_id", scope="TRUE"
    )
    ledger = MOVEMENTS.expected_sql(sources="movement m CROSS JOIN location l", scope="TRUE")
    payload = stock_event_payload("state", "ledger")
    projection = ""
    if project:
        projection = f",{in_statement.steps(event_type, products='state', movements='ledger')}"
    # A removal's: the state's quantity is the total after it, the holds are as they were.
    taken = "SELECT state.id AS product_id, -ledger.delta AS taken, state.quantity FROM state, ledger"
    taken += " WHERE ledger.delta < 0 AND %(signal_low)s"
    low = rules.stock_low_rows(taken, f"t.quantity - {HELD_BY_PRODUCT}", extra=", 1")
    return f"""
    WITH {product_steps},
    stock AS (
        -- Change the quantity at the location; out of bounds aborts the statement (CHECK).
        {stock_step}
    ), total AS (
        -- The product's quantity over its locations: this one's, plus the others' as committed
        -- now (a fresh snapshot, taken under the product's lock: see the function's migration).
        SELECT quantity + products_stock_elsewhere(product_id, location_id) AS quantity FROM stock
    ), movement AS (
        -- Append the ledger row.
        INSERT INTO products_stockmovement
               (product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
        SELECT product_id, location_id, delta, quantity, %(reason)s, %(reference)s, %(now)s, %(actor_id)s FROM stock
        RETURNING *
    ), ledger AS MATERIALIZED (
        -- The ledger row's read row.
        {ledger}
    ), state AS MATERIALIZED (
        -- The product's read row as this statement leaves it.
        {state}
    ), event AS (
        -- Append the event, with the state it left, then StockLow when the product's available
        -- fell to or below its reorder point: one INSERT, in that order (xact_id: the column default).
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT type, product_id, payload, created_at FROM (
            SELECT '{event_type.__name__}' AS type, state.id AS product_id, {payload} AS payload,
                   %(now)s AS created_at, 0 AS n
              FROM state, ledger
            UNION ALL {low}
        ) appended ORDER BY n
    ){projection}
    -- Answer with the product as the API shows it.
    {product_select("state", "state.id", reserved=rules.held("state.id"))}
    """


# A first change at a location inserts its row. PostgreSQL checks the proposed row's CHECK
# constraints before it looks for a conflict, so the proposed quantity is never below 0;
# what an inserted row holds after the change is δ itself, and a removal (δ < 0) then
# leaves a ledger row below 0, which that table's CHECK refuses: the statement aborts.
# (``xmax = 0``: the row was inserted, not updated.) A removal must leave what active
# reservations hold there (rules.never_below_held).
ADJUST_STOCK_STEP = f"""
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, greatest(%(delta)s, 0) FROM product, location
            ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = CASE WHEN %(delta)s < 0
                THEN {rules.never_below_held("s.quantity + %(delta)s", "s.product_id", "s.location_id")}
                ELSE s.quantity + %(delta)s END
        RETURNING s.product_id, s.location_id,
                  CASE WHEN s.xmax = 0 THEN %(delta)s ELSE s.quantity END AS quantity, %(delta)s::integer AS delta"""


@functools.cache  # built once per mode
def adjust_sql(*, project):
    """Return AdjustStock's statement: lock, bump, change the stock, ledger, events, projection, answer."""
    return _statement(LOCK_LOCATION_AND_BUMP_STEPS, ADJUST_STOCK_STEP, events.StockAdjusted, project=project)


# The product is already locked and bumped by LOCK_LOCATION_AND_BUMP, in a statement before, so
# this one sees the quantity every earlier writer left. (Taking the product's lock again is
# free: the transaction holds it.)
SET_STOCK_PRODUCT_STEPS = f"""
    {PRODUCT_LOCK_STEP},{LOCATION_STEP},
    product AS (SELECT * FROM products_product WHERE id = %(product_id)s)"""
SET_STOCK_STEP = f"""
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, %(quantity)s FROM product, location
            ON CONFLICT (product_id, location_id)
            DO UPDATE SET quantity = {rules.never_below_held("EXCLUDED.quantity", "s.product_id", "s.location_id")}
        RETURNING s.product_id, s.location_id, s.quantity, s.quantity - coalesce(
                  (SELECT quantity FROM products_stocklevel b WHERE b.product_id = s.product_id
                      AND b.location_id = s.location_id), 0) AS delta"""


@functools.cache
def set_sql(*, project):
    """Return SetStock's second statement: after ``LOCK_LOCATION_AND_BUMP``, the recount, ledger, events, answer."""
    return _statement(SET_STOCK_PRODUCT_STEPS, SET_STOCK_STEP, events.StockSet, project=project)
