"""The SQL of stock changes: the stock commands' statement, a stock event's payload, the StockLow step.

The statement is ``products.write.commands.stock``'s (see its docstring for the rules it
keeps); the payload, the StockLow step and the states a change of several lines leaves after
each line are shared with the reservations' statements (``products.write.commands.reservation_sql``).
"""

from products.read.projector import stock_projection_steps
from products.read.tables import MOVEMENTS, PRODUCTS, STOCK_LEVELS, held, product_select

# What a product has reserved, over its locations, as a statement of a stock command sees it.
HELD_BY_PRODUCT = held("p.id", side="write")


def stock_low_rows(taken, available, extra=""):
    """Return a SELECT of the StockLow rows (type, product_id, payload, created_at) a change appends.

    One for each row of ``taken`` that took its product from above its reorder point to or
    below it. ``taken`` is a SELECT of (``product_id``, ``taken``, ...) rows, as ``t``;
    ``available`` the product's available after the change, over ``t`` and the product row
    ``p``; ``extra``: more select-list items after them (``", t.n"``).
    """
    return f"""
        SELECT 'StockLow', p.id, jsonb_build_object(
                   'product_id', p.id::text, 'available', a.available, 'reorder_point', p.reorder_point), %(now)s{extra}
          FROM ({taken}) t JOIN products_product p ON p.id = t.product_id
         CROSS JOIN LATERAL (SELECT {available} AS available) a
         WHERE a.available <= p.reorder_point AND a.available + t.taken > p.reorder_point"""


def stock_low_step(taken, available):
    """Return a step appending StockLow for each product a change took from above its reorder point to or below it.

    ``taken`` and ``available`` as in ``stock_low_rows``.
    """
    return f"""
        INSERT INTO products_event (type, product_id, payload, created_at){stock_low_rows(taken, available)}"""


def stock_event_payload(state, ledger):
    """Return the SQL payload of a stock event: its fields, the product's read row ``state``, its ledger row's."""
    return (
        f"jsonb_build_object('product_id', {state}.id::text, 'movement_id', {ledger}.id, 'location', {ledger}.location,"
        f" 'delta', {ledger}.delta, 'quantity', {state}.quantity, 'product', {PRODUCTS.api_json(state)},"
        f" 'movement', {MOVEMENTS.api_json(ledger)})"
    )


def states_after_each_line(movement):
    """Return a SELECT of the product's state after each line of a change of several lines at once.

    What applying the lines one at a time, in ledger order, leaves after each, as separate
    commands would (a batch's lines, each its own stock statement): ``movement`` is a step
    with the ledger rows the change appended (``RETURNING *``), one per line and (product,
    location). Each row: the ledger row's ``movement_id``, the product's ``quantity`` over its
    locations after that line (the other locations' as committed now: see the function's
    migration), and ``lines_after``, how many of the product's lines come after it: with one
    version per line, its version after the line is its final version less that (``last``:
    none). The lines' events then carry states that follow one another, and a consumer that
    applies them in order ends at the product as the change left it.
    """
    return f"""
        SELECT m.id AS movement_id, m.product_id,
               products_stock_outside(m.product_id, array_agg(m.location_id) OVER product)
               + sum(m.quantity_after) OVER product - coalesce(sum(m.delta) OVER later, 0) AS quantity,
               count(*) OVER later AS lines_after
          FROM {movement} m
        WINDOW product AS (PARTITION BY m.product_id),
               later AS (PARTITION BY m.product_id ORDER BY m.id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"""


# Lock the location's row where it is active. After the product's lock (``after``), which
# must come before the transaction has an id, and this row lock gives it one. A concurrent
# deactivation waits for this change to commit; a change that waited for a deactivation
# re-checks the latest row (FOR SHARE does) and finds none: no product bump, no row at all.
LOCATION_STEP = """
    location AS MATERIALIZED (
        SELECT l.id, l.code FROM products_location l{after}
         WHERE l.code = %(location)s AND l.is_active FOR SHARE OF l
    )"""


def statement(product_steps, stock_step, event_type, *, project, signal_low=True):
    """Return the statement of a stock command, around its own ``product`` and ``stock`` steps.

    ``product_steps`` leave the locked, bumped product row in ``product`` and the locked
    location (``id``, ``code``) in ``location``; ``stock_step`` changes the product's stock
    level at that location and returns ``product_id``, ``location_id``, ``quantity`` (there)
    and ``delta``. ``signal_low``: append StockLow when a removal takes the product low.
    """
    state = PRODUCTS.expected_sql(
        sources="product p CROSS JOIN total s LEFT JOIN products_category c ON c.id = p.category_id", scope="TRUE"
    )
    ledger = MOVEMENTS.expected_sql(sources="movement m CROSS JOIN location l", scope="TRUE")
    level = STOCK_LEVELS.expected_sql(sources="stock sl CROSS JOIN location l", scope="TRUE")
    payload = stock_event_payload("state", "ledger")
    projection = f",{stock_projection_steps('state', 'ledger', 'level')}" if project else ""
    # A removal's: the state's quantity is the total after it, the holds are as they were.
    # (Joined with the event's row, so StockLow comes after it in the log.)
    taken = "SELECT state.id AS product_id, -ledger.delta AS taken, state.quantity FROM state, ledger, event"
    taken += f" WHERE ledger.delta < 0 AND {'TRUE' if signal_low else 'FALSE'}"
    low = stock_low_step(taken, f"t.quantity - {HELD_BY_PRODUCT}")
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
    ), level AS MATERIALIZED (
        -- The stock level's read row.
        {level}
    ), state AS MATERIALIZED (
        -- The product's read row as this statement leaves it.
        {state}
    ), event AS (
        -- Append the event, with the state it left, to the log (xact_id: the column default).
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT '{event_type.__name__}', state.id, {payload}, %(now)s FROM state, ledger
        RETURNING id
    ), low AS (
        -- The product's available fell to or below its reorder point: StockLow.
        {low}
    ){projection}
    -- Answer with the product as the API shows it.
    {product_select("state", "state.id", side="write")}
    """


# A first change at a location inserts its row. PostgreSQL checks the proposed row's CHECK
# constraints before it looks for a conflict, so the proposed quantity is never below 0;
# what an inserted row holds after the change is δ itself, and a removal (δ < 0) then
# leaves a ledger row below 0, which that table's CHECK refuses: the statement aborts.
# (``xmax = 0``: the row was inserted, not updated.) A removal must leave what active
# reservations hold there (``products_keep_held``, which reads them as committed now).
ADJUST_STOCK_STEP = """
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, greatest(%(delta)s, 0) FROM product, location
            ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = CASE WHEN %(delta)s < 0
                THEN products_keep_held(s.quantity + %(delta)s, s.product_id, s.location_id)
                ELSE s.quantity + %(delta)s END
        RETURNING s.product_id, s.location_id,
                  CASE WHEN s.xmax = 0 THEN %(delta)s ELSE s.quantity END AS quantity, %(delta)s::integer AS delta"""
# The product is already locked and bumped by the statement before, so this one sees the
# quantity every earlier writer left.
SET_STOCK_PRODUCT_STEPS = (
    "product AS (SELECT * FROM products_product WHERE id = %(product_id)s)," + LOCATION_STEP.format(after="")
)
SET_STOCK_STEP = """
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, %(quantity)s FROM product, location
            ON CONFLICT (product_id, location_id)
            DO UPDATE SET quantity = products_keep_held(EXCLUDED.quantity, s.product_id, s.location_id)
        RETURNING s.product_id, s.location_id, s.quantity, s.quantity - coalesce(
                  (SELECT quantity FROM products_stocklevel b WHERE b.product_id = s.product_id
                      AND b.location_id = s.location_id), 0) AS delta"""
