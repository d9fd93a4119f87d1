"""Commands of a product's stock: adjust it by a delta, set it to a counted quantity.

Each writes with one SQL statement (``_statement``): lock the product and bump its version
(checking If-Match), change the quantity, append the ledger row, append the event with the
state it left, project it to the read tables (single-database mode), and answer with the
product as the API shows it. ``AdjustStock`` is that statement alone, in autocommit: one
round trip, atomic by itself. ``SetStock`` first locks and bumps the product (the delta of a
recount needs the quantity as the lock leaves it), then runs the statement: two.

The database keeps the rules: the product row lock serializes writers of one product, the
quantity changes as ``quantity + δ`` on the latest row, and the CHECK constraint on the
quantity (0 to MAX_QUANTITY) aborts the whole statement when a change would break it, so
nothing is written and no update is lost.
"""

import contextlib
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction

from cqrs_demo.bus import Command, events_in_sql
from cqrs_demo.routers import read_store_alias
from products import events
from products.errors import InsufficientStockError, StockLimitError
from products.read.projector import stock_projection_steps
from products.read.tables import MOVEMENTS, PRODUCTS
from products.sql import fetch_dicts
from products.write.commands.common import (
    LOCK_AND_BUMP_STEPS,
    bump_version,
    check_quantity,
    constraint_name,
    lock_and_bump_params,
    raise_missing_or_stale,
    version_check,
)
from products.write.models import MAX_QUANTITY, StockLevel

STOCK_BOUNDS = {"stock_quantity_in_range", "movement_quantity_after_non_negative"}  # the CHECK constraints


@dataclass(frozen=True)
class AdjustStock(Command):
    product_id: UUID
    delta: int
    reason: str = ""
    expected_version: int | None = None
    actor_id: int | None = None


@dataclass(frozen=True)
class SetStock(Command):
    product_id: UUID
    quantity: int
    reason: str = ""
    expected_version: int | None = None
    actor_id: int | None = None


def _statement(product_steps, stock_step, event_type, *, project):
    """Return the statement of a stock command, around its own ``product`` and ``stock`` steps.

    ``product_steps`` leave the locked, bumped product row in ``product``; ``stock_step``
    changes its stock level and returns ``product_id``, ``quantity`` and ``delta``.
    """
    state = PRODUCTS.expected_sql(
        sources="product p CROSS JOIN stock s LEFT JOIN products_category c ON c.id = p.category_id", scope="TRUE"
    )
    payload = (
        "jsonb_build_object('product_id', state.id::text, 'movement_id', movement.id, 'delta', movement.delta,"
        f" 'quantity', state.quantity, 'product', {PRODUCTS.api_json('state')},"
        f" 'movement', {MOVEMENTS.api_json('movement')})"
    )
    projection = f",{stock_projection_steps('state', 'movement')}" if project else ""
    return f"""
    WITH {product_steps},
    stock AS (
        -- Change the quantity on the latest row; out of bounds aborts the statement (CHECK).
        {stock_step}
    ), movement AS (
        -- Append the ledger row.
        INSERT INTO products_stockmovement (product_id, delta, quantity_after, reason, created_at, created_by_id)
        SELECT product_id, delta, quantity, %(reason)s, %(now)s, %(actor_id)s FROM stock
        RETURNING *
    ), state AS MATERIALIZED (
        -- The product's read row as this statement leaves it.
        {state}
    ), event AS (
        -- Append the event, with the state it left, to the log (xact_id: the column default).
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT '{event_type.__name__}', state.id, {payload}, %(now)s FROM state, movement
    ){projection}
    -- Answer with the product as the API shows it.
    {PRODUCTS.api_select(source="state")}
    """


_ADJUST_STOCK_STEP = """
        UPDATE products_stocklevel s SET quantity = s.quantity + %(delta)s
          FROM product WHERE s.product_id = product.id
        RETURNING s.product_id, s.quantity, %(delta)s::integer AS delta"""
# The product is already locked and bumped by the statement before, so this one sees the
# quantity every earlier writer left.
_SET_STOCK_PRODUCT_STEP = "product AS (SELECT * FROM products_product WHERE id = %(product_id)s)"
_SET_STOCK_STEP = """
        UPDATE products_stocklevel s SET quantity = %(quantity)s
          FROM (SELECT product_id, quantity FROM products_stocklevel WHERE product_id = %(product_id)s) before
         WHERE s.product_id = before.product_id
        RETURNING s.product_id, s.quantity, s.quantity - before.quantity AS delta"""


def _single_database():
    return read_store_alias() == "default"


@events_in_sql(events.StockAdjusted, single_statement=True)
def adjust_stock(command):
    """Add ``delta`` (negative for a sale) to the stock, refusing to go below zero; return the product."""
    params = {
        **lock_and_bump_params(command.product_id, command.expected_version),
        "delta": command.delta,
        "reason": command.reason,
        "actor_id": command.actor_id,
    }
    product_steps = LOCK_AND_BUMP_STEPS.format(changes="", version_check=version_check(command.expected_version))
    sql = _statement(product_steps, _ADJUST_STOCK_STEP, events.StockAdjusted, project=_single_database())
    # Inside a caller's transaction, a savepoint keeps it usable when the statement is refused.
    savepoint = transaction.atomic() if transaction.get_connection().in_atomic_block else contextlib.nullcontext()
    try:
        with savepoint:
            rows = fetch_dicts(sql, params)
    except IntegrityError as error:
        if constraint_name(error) not in STOCK_BOUNDS:
            raise
        quantity = StockLevel.objects.values_list("quantity", flat=True).get(product_id=command.product_id)
        if command.delta < 0:
            raise InsufficientStockError(f"Only {quantity} in stock; cannot remove {-command.delta}.") from None
        raise StockLimitError(f"Stock cannot exceed {MAX_QUANTITY}; it is {quantity}.", field="delta") from None
    if not rows:
        raise_missing_or_stale(command.product_id)
    return rows[0]


@events_in_sql(events.StockSet)
def set_stock(command):
    """Set the stock to a counted quantity, recording the delta it implies; return the product."""
    check_quantity(command.quantity, "quantity")
    bump_version(command.product_id, command.expected_version)
    params = {
        **lock_and_bump_params(command.product_id, command.expected_version),
        "quantity": command.quantity,
        "reason": command.reason,
        "actor_id": command.actor_id,
    }
    sql = _statement(_SET_STOCK_PRODUCT_STEP, _SET_STOCK_STEP, events.StockSet, project=_single_database())
    return fetch_dicts(sql, params)[0]


HANDLERS = {
    AdjustStock: adjust_stock,
    SetStock: set_stock,
}
