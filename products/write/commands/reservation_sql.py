"""The statements of the reservation commands on the checkout path: placing one, committing one.

Each is one statement after the statement that takes the products' locks (so it reads with
a fresh snapshot): it changes the write tables, appends its events with the payloads
``products.write.event_log`` would render, and, in single-database mode, projects them,
as the stock commands' statement does (``products.write.commands.stock``). Lines it inserts
are not in its own snapshot, so the rows it derives come from its own RETURNING rows.
"""

import functools

from products import events
from products.events import in_statement
from products.read.tables import HOLDS, MOVEMENTS, PRODUCTS, RESERVATIONS, UTC_TIMESTAMP
from products.write import rules
from products.write.commands.common import STOCK_LINES_STEPS
from products.write.commands.stock_sql import HELD_BY_PRODUCT, states_after_each_line, stock_event_payload

# A product's quantity over its locations after all the lines of a commit (``c``: its ledger
# rows, the window ``product`` its lines): see ``states_after_each_line``.
_COMMITTED_TOTAL = (
    "products_stock_outside(c.product_id, array_agg(c.location_id) OVER product) + sum(c.quantity_after) OVER product"
)
_AFTER_LINE_COLUMNS = "c.id AS movement_id, c.product_id"

# A hold's read row as event payloads carry it (products.write.representation.holds).
_HOLD_JSON = (
    "jsonb_build_object('key', h.key, 'reservation_id', h.reservation_id::text, 'product_id', h.product_id::text,"
    f" 'location', h.location, 'quantity', h.quantity, 'expires_at', {UTC_TIMESTAMP.format('h.expires_at')})"
)


def _reservation_event_row(event_type, shown, holds=None, extra=""):
    """Return a SELECT of the row (type, product_id, payload, created_at) of ``event_type`` for a reservation.

    ``shown``: the reservation's read row; ``holds``: its holds' read rows (none when None);
    ``extra``: more select-list items after them (``", 0"``).
    """
    holds_json = f"(SELECT coalesce(jsonb_agg({_HOLD_JSON} ORDER BY h.key), '[]') FROM {holds} h)" if holds else "'[]'"
    payload = (
        f"jsonb_build_object('reservation_id', {shown}.id::text, 'reservation', {RESERVATIONS.api_json(shown)},"
        f" 'status', {shown}.status, 'version', {shown}.version,"
        f" 'updated_at', {UTC_TIMESTAMP.format(f'{shown}.updated_at')},"
        f" 'holds', {holds_json}::jsonb)"
    )
    return f"SELECT '{event_type.__name__}', NULL::uuid, {payload}, %(now)s{extra} FROM {shown}"


# The lines as the API shows them, from the statement's own new rows (``placed``, ``line``).
_PLACED_LINES = """(SELECT jsonb_agg(jsonb_build_object(
        'product', pl.product_id::text, 'sku', p.sku, 'location', line.location, 'quantity', pl.quantity)
        ORDER BY pl.id)
      FROM placed pl JOIN line ON line.product_id = pl.product_id AND line.location_id = pl.location_id
      JOIN products_product p ON p.id = pl.product_id)"""


@functools.cache  # built once per mode: the checkout path runs it on every request
def place_sql(event_type, *, project):
    """Return the statement that places a reservation if every line can be held (see ``place_reservation``)."""
    projection = f",{in_statement.steps(event_type, reservations='shown', holds='hold')}" if project else ""
    # The new holds are not in this statement's snapshot: the available left is less what they take.
    low = rules.stock_low_rows(
        "SELECT product_id, sum(amount) AS taken FROM line WHERE EXISTS (SELECT FROM reservation) GROUP BY product_id",
        "(SELECT coalesce(sum(quantity), 0) FROM products_stocklevel WHERE product_id = p.id)"
        f" - {HELD_BY_PRODUCT} - t.taken",
        extra=", 1",
    )
    return f"""
    WITH {STOCK_LINES_STEPS}, reservation AS (
        INSERT INTO products_reservation (id, status, reference, expires_at, version, created_at, updated_at,
                                          created_by_id)
        SELECT %(id)s, 'active', %(reference)s, clock_timestamp() + make_interval(secs => %(expires_in)s), 1,
               %(now)s, %(now)s, %(actor_id)s
         WHERE (SELECT bool_and(known AND location_id IS NOT NULL AND on_hand - reserved >= amount) FROM line)
        RETURNING *
    ), placed AS (
        INSERT INTO products_reservationline (reservation_id, product_id, location_id, quantity, held_until)
        SELECT r.id, line.product_id, line.location_id, line.amount, r.expires_at
          FROM reservation r CROSS JOIN line ORDER BY line.n
        RETURNING *
    ), shown AS MATERIALIZED (
        -- The reservation's read row.
        {RESERVATIONS.expected_sql(sources="reservation r", scope="TRUE", overrides={"lines": _PLACED_LINES})}
    ), hold AS MATERIALIZED (
        -- Its holds' read rows.
        {HOLDS.expected_sql(sources="placed rl JOIN products_location l ON l.id = rl.location_id", scope="TRUE")}
    ), event AS (
        -- The event, then StockLow for each product the holds took low: one INSERT, in that order.
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT type, product_id, payload, created_at FROM (
            {_reservation_event_row(event_type, "shown", "hold", extra=", 0")}
            UNION ALL {low}
        ) appended (type, product_id, payload, created_at, n) ORDER BY n
    ){projection}
    -- Every line, with what failed; and the reservation as the API shows it, if it was placed.
    SELECT line.product_id, line.location, line.amount, line.known, line.location_id, line.on_hand, line.reserved,
           answer.* FROM line LEFT JOIN ({RESERVATIONS.api_select(source="shown")}) answer ON TRUE
     ORDER BY line.n
    """


@functools.cache
def commit_sql(event_type, *, project):
    """Return the statement that commits an active reservation (see ``commit_reservation``).

    Each line's quantity leaves its location (a ``sale`` ledger row with the reservation's
    reference and a ``StockAdjusted`` event each, as ``AdjustStock`` writes them) at the same
    moment its hold ends, so what is available does not change. Each line bumps its product's
    version and its event carries the product as that line left it, as a batch's lines do.
    Nothing happens unless the reservation is active, its time not up, and every line can be
    sold: its product not archived, its location active.
    """
    projection = ""
    if project:
        steps = in_statement.steps(event_type, products="last_state", movements="ledger", reservations="shown")
        projection = f""", last_state AS (
            -- Each product as its last line left it.
            SELECT * FROM state WHERE last
        ),{steps}"""
    return f"""
    WITH ended AS (
        UPDATE products_reservation r SET status = 'committed', version = r.version + 1, updated_at = %(now)s
         WHERE r.id = %(id)s AND r.status = 'active' AND r.expires_at > clock_timestamp()
           -- (The location as a subquery, not a third join: a plan found in less time.)
           AND NOT EXISTS (SELECT FROM products_reservationline rl JOIN products_product p ON p.id = rl.product_id
                            WHERE rl.reservation_id = r.id AND (p.is_archived OR NOT (
                              SELECT {rules.takes_stock("l")} FROM products_location l WHERE l.id = rl.location_id)))
        RETURNING r.*
    ), released AS (
        UPDATE products_reservationline rl SET held_until = NULL FROM ended WHERE rl.reservation_id = ended.id
        RETURNING rl.*
    ), product AS (
        UPDATE products_product p SET version = p.version + taken.lines, updated_at = %(now)s
          FROM (SELECT product_id, count(*) AS lines FROM released GROUP BY product_id) taken
         WHERE p.id = taken.product_id
        RETURNING p.*
    ), stock AS (
        -- Out of bounds aborts the statement (CHECK); it cannot be, with the hold it had.
        UPDATE products_stocklevel s SET quantity = s.quantity - r.quantity
          FROM released r WHERE s.product_id = r.product_id AND s.location_id = r.location_id
        RETURNING s.product_id, s.location_id, s.quantity, -r.quantity AS delta, r.id AS line_id
    ), movement AS (
        INSERT INTO products_stockmovement
               (product_id, location_id, delta, quantity_after, reason, reference, created_at, created_by_id)
        SELECT s.product_id, s.location_id, s.delta, s.quantity, %(reason)s, ended.reference, %(now)s, %(actor_id)s
          FROM stock s CROSS JOIN ended ORDER BY s.line_id  -- the ledger in the order of the lines
        RETURNING *
    ), after_line AS MATERIALIZED (
        -- Each product's quantity and version after each of its lines, in the order of the lines
        -- (ledger order): its final quantity is its other locations' as committed now (a fresh
        -- snapshot: see the function's migration) plus what its lines left at theirs.
        {states_after_each_line("movement c", order="c.id", total=_COMMITTED_TOTAL, columns=_AFTER_LINE_COLUMNS)}
    ), ledger AS MATERIALIZED (
        {MOVEMENTS.expected_sql(sources="movement m JOIN products_location l ON l.id = m.location_id", scope="TRUE")}
    ), state AS MATERIALIZED (
        -- The product's read row after each line (and the line's ledger row).
        {
        PRODUCTS.expected_sql(
            sources="product p JOIN after_line s ON s.product_id = p.id"
            " LEFT JOIN products_category c ON c.id = p.category_id",
            scope="TRUE",
            overrides={"version": "p.version - s.lines_after"},
            extra=("s.movement_id", "s.lines_after = 0 AS last"),
        )
    }
    ), shown AS MATERIALIZED (
        {RESERVATIONS.expected_sql(sources="ended r", scope="TRUE")}
    ), event AS (
        -- A StockAdjusted per line, in the order of the lines, then the reservation's event: one INSERT.
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT type, product_id, payload, created_at FROM (
            SELECT '{events.StockAdjusted.__name__}', state.id, {stock_event_payload("state", "ledger")}, %(now)s,
                   ledger.id
              FROM ledger JOIN state ON state.movement_id = ledger.id
            UNION ALL {_reservation_event_row(event_type, "shown", extra=", NULL::bigint")}
        ) appended (type, product_id, payload, created_at, n) ORDER BY n NULLS LAST
    ){projection}
    {RESERVATIONS.api_select(source="shown")}
    """
