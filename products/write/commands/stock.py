"""Commands of a product's stock at a location: adjust it by a delta, set it to a counted quantity.

A product's stock is one row per (product, location) that ever held it; its on-hand quantity
is their sum. Each command names a location by its code (default ``main``); an unknown or
inactive one is refused. Each writes with one SQL statement (``_statement``): lock the
product and the location and bump the product's version (checking If-Match), change the
quantity at the location, append the ledger row, append the event with the state it left,
project it to the read tables (single-database mode), and answer with the product as the
API shows it. ``AdjustStock`` is that statement alone, in autocommit: one round trip,
atomic by itself. ``SetStock`` first locks and bumps the product (the delta of a
recount needs the quantity as the lock leaves it), then runs the statement: two.

The database keeps the rules: the product row lock serializes writers of one product, the
location's row lock (FOR SHARE) serializes them with a deactivation of the location, the
quantity changes as ``quantity + δ`` on the latest row (an upsert of the location's row),
and the CHECK constraint on the quantity (0 to MAX_QUANTITY) aborts the whole statement
when a change would break it, so nothing is written and no update is lost.
"""

import contextlib
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction

from cqrs_demo.bus import Command, events_in_sql
from products import events
from products.errors import InsufficientStockError, StockLimitError
from products.read.projector import stock_projection_steps
from products.read.tables import MOVEMENTS, PRODUCTS, STOCK_LEVELS, held, product_select
from products.sql import fetch_dicts
from products.write.commands.common import (
    LOCK_AND_BUMP_STEPS,
    bump_version,
    check_quantity,
    constraint_name,
    lock_and_bump_params,
    raise_missing_or_stale,
    raise_unusable_location,
    single_database,
    version_check,
)
from products.write.commands.stock_sql import HELD_BY_PRODUCT, stock_event_payload, stock_low_step
from products.write.models import MAIN_LOCATION, MAX_QUANTITY, Product

# The CHECK constraints, and the rule that stock active reservations hold stays (products_keep_held).
STOCK_BOUNDS = {"stock_quantity_in_range", "movement_quantity_after_non_negative", "stock_held_by_reservations"}


@dataclass(frozen=True)
class AdjustStock(Command):
    product_id: UUID
    delta: int
    reason: str = ""
    expected_version: int | None = None
    actor_id: int | None = None
    location: str = MAIN_LOCATION  # a location's code
    reference: str | None = None  # the ledger row's (an order, a delivery)
    # Append StockLow when a removal takes the product low (a transfer's legs do not: its total stays).
    signal_low: bool = True


@dataclass(frozen=True)
class SetStock(Command):
    product_id: UUID
    quantity: int
    reason: str = ""
    expected_version: int | None = None
    actor_id: int | None = None
    location: str = MAIN_LOCATION  # a location's code
    reference: str | None = None  # the ledger row's


# Lock the location's row where it is active. After the product's lock (``after``), which
# must come before the transaction has an id, and this row lock gives it one. A concurrent
# deactivation waits for this change to commit; a change that waited for a deactivation
# re-checks the latest row (FOR SHARE does) and finds none: no product bump, no row at all.
_LOCATION_STEP = """
    location AS MATERIALIZED (
        SELECT l.id, l.code FROM products_location l{after}
         WHERE l.code = %(location)s AND l.is_active FOR SHARE OF l
    )"""


def _statement(product_steps, stock_step, event_type, *, project, signal_low=True):
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
_ADJUST_STOCK_STEP = """
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, greatest(%(delta)s, 0) FROM product, location
            ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = CASE WHEN %(delta)s < 0
                THEN products_keep_held(s.quantity + %(delta)s, s.product_id, s.location_id)
                ELSE s.quantity + %(delta)s END
        RETURNING s.product_id, s.location_id,
                  CASE WHEN s.xmax = 0 THEN %(delta)s ELSE s.quantity END AS quantity, %(delta)s::integer AS delta"""
# The product is already locked and bumped by the statement before, so this one sees the
# quantity every earlier writer left.
_SET_STOCK_PRODUCT_STEPS = (
    "product AS (SELECT * FROM products_product WHERE id = %(product_id)s)," + _LOCATION_STEP.format(after="")
)
_SET_STOCK_STEP = """
        INSERT INTO products_stocklevel AS s (product_id, location_id, quantity)
        SELECT product.id, location.id, %(quantity)s FROM product, location
            ON CONFLICT (product_id, location_id)
            DO UPDATE SET quantity = products_keep_held(EXCLUDED.quantity, s.product_id, s.location_id)
        RETURNING s.product_id, s.location_id, s.quantity, s.quantity - coalesce(
                  (SELECT quantity FROM products_stocklevel b WHERE b.product_id = s.product_id
                      AND b.location_id = s.location_id), 0) AS delta"""


def _available_at(product_id, code):
    """Return (quantity, available) of a product at a location, as committed now."""
    rows = fetch_dicts(
        f"""SELECT s.quantity, s.quantity - {held("s.product_id", "s.location_id", side="write")} AS available
              FROM products_stocklevel s JOIN products_location l ON l.id = s.location_id
             WHERE s.product_id = %s AND l.code = %s""",
        [product_id, code],
    )
    return (rows[0]["quantity"], rows[0]["available"]) if rows else (0, 0)


@events_in_sql(events.StockAdjusted, events.StockLow, single_statement=True)
def adjust_stock(command):
    """Add ``delta`` (negative for a sale) to the stock at a location, refusing to go below zero there;
    return the product."""
    params = {
        **lock_and_bump_params(command.product_id, command.expected_version),
        "delta": command.delta,
        "location": command.location,
        "reason": command.reason,
        "reference": command.reference,
        "actor_id": command.actor_id,
    }
    product_steps = LOCK_AND_BUMP_STEPS.format(
        changes="",
        version_check=version_check(command.expected_version),
        gate="," + _LOCATION_STEP.format(after=", locked"),
        gate_from=", location",
    )
    sql = _statement(
        product_steps,
        _ADJUST_STOCK_STEP,
        events.StockAdjusted,
        project=single_database(),
        signal_low=command.signal_low,
    )
    for _attempt in range(2):
        rows = _adjust(sql, params, command)
        if rows:
            return rows[0]
        # Why nothing was written, looked up on this failure path only, in SetStock's order:
        # the product missing or stale, then the location unknown or inactive.
        current = Product.objects.filter(id=command.product_id, is_archived=False)
        if command.expected_version is not None:
            current = current.filter(version=command.expected_version)
        if not current.exists():
            raise_missing_or_stale(command.product_id)
        raise_unusable_location(command.location)
        # Usable now: created or activated while the statement waited for the product's
        # lock, after the snapshot it read the location with. Once more, with a fresh one.
    raise_missing_or_stale(command.product_id)


def _adjust(sql, params, command):
    """Run a stock command's statement; turn a change its rules refused into the domain's error."""
    # Inside a caller's transaction, a savepoint keeps it usable when the statement is refused.
    savepoint = transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext()
    try:
        with savepoint:
            return fetch_dicts(sql, params)
    except IntegrityError as error:
        if constraint_name(error) not in STOCK_BOUNDS:
            raise
        quantity, available = _available_at(command.product_id, command.location)
        where = f" at {command.location}"
        if command.delta < 0:
            raise InsufficientStockError(
                f"Only {available} available{where} ({quantity} in stock, {quantity - available} reserved);"
                f" cannot remove {-command.delta}."
            ) from None
        raise StockLimitError(f"Stock cannot exceed {MAX_QUANTITY}; it is {quantity}{where}.", field="delta") from None


def _recount(sql, params, command):
    """Run the recount's statement; a count below what reservations hold there is refused (the only rule it can break).

    No savepoint: the refusal ends the command's transaction, and the error carries what is held.
    """
    try:
        return fetch_dicts(sql, params)
    except IntegrityError as error:
        if constraint_name(error) != "stock_held_by_reservations":
            raise
        holding = error.__cause__.diag.message_detail
        raise InsufficientStockError(
            f"Reservations hold {holding} at {command.location}; the stock cannot be set to {command.quantity}."
        ) from None


@events_in_sql(events.StockSet, events.StockLow)
def set_stock(command):
    """Set the stock at a location to a counted quantity, recording the delta it implies; return the product."""
    check_quantity(command.quantity, "quantity")
    bump_version(command.product_id, command.expected_version)
    params = {
        **lock_and_bump_params(command.product_id, command.expected_version),
        "quantity": command.quantity,
        "location": command.location,
        "reason": command.reason,
        "reference": command.reference,
        "actor_id": command.actor_id,
    }
    sql = _statement(_SET_STOCK_PRODUCT_STEPS, _SET_STOCK_STEP, events.StockSet, project=single_database())
    rows = _recount(sql, params, command)
    if not rows:
        raise_unusable_location(command.location)  # the command's transaction undoes the bump
        rows = _recount(sql, params, command)  # usable now: it changed while this statement ran
    if not rows:
        raise_unusable_location(command.location)
        raise_missing_or_stale(command.product_id)
    return rows[0]


HANDLERS = {
    AdjustStock: adjust_stock,
    SetStock: set_stock,
}
