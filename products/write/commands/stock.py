"""Commands of a product's stock at a location: adjust it by a delta, set it to a counted quantity.

A product's stock is one row per (product, location) that ever held it; its on-hand quantity
is their sum. Each command names a location by its code (default ``main``); an unknown or
inactive one is refused. Each writes with one SQL statement (``stock_sql.adjust_sql``): lock the
product and the location and bump the product's version (checking If-Match), change the
quantity at the location, append the ledger row, append the event with the state it left,
project it to the read tables (single-database mode), and answer with the product as the
API shows it. ``AdjustStock`` is that statement alone, in autocommit: one round trip,
atomic by itself. ``SetStock`` first locks the product and the location and bumps the product (the delta of a
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
from products.sql import fetch_dicts
from products.write import rules
from products.write.commands import stock_sql
from products.write.commands.common import (
    check_quantity,
    constraint_name,
    lock_and_bump_params,
    raise_missing_or_stale,
    raise_unusable_location,
    single_database,
)
from products.write.models import MAIN_LOCATION, MAX_QUANTITY, Product

# The CHECK constraints, and the rule that stock active reservations hold stays (rules.never_below_held).
STOCK_BOUNDS = {"stock_quantity_in_range", "movement_quantity_after_non_negative", rules.HELD_CONSTRAINT}


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


_AVAILABLE_AT_SQL = f"""
    SELECT s.quantity, s.quantity - {rules.held("s.product_id", "s.location_id")} AS available
      FROM products_stocklevel s JOIN products_location l ON l.id = s.location_id
     WHERE s.product_id = %(product_id)s AND l.code = %(location)s"""


def _available_at(product_id, code):
    """Return (quantity, available) of a product at a location, as committed now."""
    rows = fetch_dicts(_AVAILABLE_AT_SQL, {"product_id": product_id, "location": code})
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
        "signal_low": command.signal_low,
    }
    sql = stock_sql.adjust_sql(project=single_database())
    for _attempt in range(2):
        rows = _adjust(sql, params, command)
        if rows:
            return rows[0]
        _raise_why_not_written(command)
    raise_missing_or_stale(command.product_id)


def _raise_why_not_written(command):
    """Raise why a stock command's lock-and-bump wrote nothing: the product missing or stale, then the location.

    Looked up on this failure path only. When neither is the reason, the location became usable
    (created or activated) while the statement waited for the product's lock, after the snapshot
    it read the location with: the caller tries once more, with a fresh one.
    """
    current = Product.objects.filter(id=command.product_id, is_archived=False)
    if command.expected_version is not None:
        current = current.filter(version=command.expected_version)
    if not current.exists():
        raise_missing_or_stale(command.product_id)
    raise_unusable_location(command.location)


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
        if constraint_name(error) != rules.HELD_CONSTRAINT:
            raise
        holding = error.__cause__.diag.message_detail
        raise InsufficientStockError(
            f"Reservations hold {holding} at {command.location}; the stock cannot be set to {command.quantity}."
        ) from None


def _lock_location_and_bump(command):
    """Lock the product, then the location, and bump the product: the order every stock change takes them in.

    A bulk import locks a location FOR SHARE before the rows of the products it writes, and a
    deactivation UPDATEs it; taking the location before the product's row here, as
    AdjustStock's statement does, keeps them from deadlocking.
    """
    params = {**lock_and_bump_params(command.product_id, command.expected_version), "location": command.location}
    for _attempt in range(2):
        if fetch_dicts(stock_sql.LOCK_LOCATION_AND_BUMP, params)[0]["bumped"]:
            return
        _raise_why_not_written(command)
    raise_missing_or_stale(command.product_id)


@events_in_sql(events.StockSet, events.StockLow)
def set_stock(command):
    """Set the stock at a location to a counted quantity, recording the delta it implies; return the product."""
    check_quantity(command.quantity, "quantity")
    _lock_location_and_bump(command)
    params = {
        **lock_and_bump_params(command.product_id, command.expected_version),
        "quantity": command.quantity,
        "location": command.location,
        "reason": command.reason,
        "reference": command.reference,
        "actor_id": command.actor_id,
        "signal_low": True,
    }
    sql = stock_sql.set_sql(project=single_database())
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
