"""Commands of several stock changes at once, all or nothing: a batch of adjustments, a transfer between locations.

Each takes its products' locks in key order, then its locations', then its products' rows
(so two batches naming the same products in opposite orders never deadlock), in a statement
of its own; then one statement (``stock_batch_sql``) reads every line with a fresh snapshot
(every earlier writer of that stock has committed) and, only when no line would leave less
than what active reservations hold there (or more than the limit), applies them all: a
version bump, a ledger row and a ``StockAdjusted`` or ``StockSet`` event per line, as a
single change would write them. Otherwise it writes nothing, and the
command is refused listing every line at fault. The locks make the check hold until the
command commits; the bus's transaction makes it all or nothing.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone

from cqrs_demo.bus import Command, events_in_sql
from products import events
from products.errors import DuplicateLineError, InsufficientStockError
from products.write import event_log
from products.write.commands import stock_batch_sql
from products.write.commands.common import (
    check_distinct_lines,
    lock_products,
    raise_unknown_lines,
    single_database,
    stock_lines_params,
)
from products.write.models import MAIN_LOCATION, MAX_QUANTITY

TRANSFER = "transfer"  # the reason of a transfer's ledger rows


@dataclass(frozen=True)
class BatchLine:
    """One line of a batch: exactly one of ``delta`` (relative) and ``quantity`` (a recount)."""

    product_id: UUID
    delta: int | None = None
    quantity: int | None = None
    location: str = MAIN_LOCATION  # a location's code


@dataclass(frozen=True)
class AdjustStockBatch(Command):
    """A whole delivery, order or stocktake in one request."""

    lines: tuple  # of BatchLine, one per (product, location)
    reason: str = ""
    reference: str | None = None
    actor_id: int | None = None


@dataclass(frozen=True)
class TransferLine:
    product_id: UUID
    quantity: int


@dataclass(frozen=True)
class TransferStock(Command):
    """Move stock from one location to another; products' totals stay as they were."""

    from_location: str
    to_location: str
    lines: tuple  # of TransferLine, one per product
    reference: str | None = None
    actor_id: int | None = None


def _apply_lines(lines, *, reason, reference, actor_id, signal_low):
    """Lock the lines' products and locations, then check every line and apply them all if each may be.

    ``lines`` are (product_id, location, delta, counted) tuples. Return each line as read, with
    the quantity it leaves there (``after``) and whether it may be applied (``ok``); when any
    may not, nothing was written.
    """
    check_distinct_lines([(product_id, location) for product_id, location, _, _ in lines])
    lock_products([product_id for product_id, _, _, _ in lines], [location for _, location, _, _ in lines], rows=True)
    params = {
        **stock_lines_params(lines),
        "max_quantity": MAX_QUANTITY,
        "now": timezone.now(),
        "reason": reason,
        "reference": reference,
        "actor_id": actor_id,
    }
    statement = stock_batch_sql.statement(project=single_database(), signal_low=signal_low)
    with connection.cursor() as cursor:
        # In the statement's round trip: JIT off for it (stock_batch_sql.NO_JIT), then the statement.
        cursor.execute(f"{stock_batch_sql.NO_JIT}; {statement}", params)
        while cursor.description is None and cursor.nextset():  # psycopg 3 starts at the SET's (empty) result
            pass
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    raise_unknown_lines(rows)
    return rows


def _requested(row):
    return row["amount"] if row["counted"] is None else row["counted"]


def _refuse_lines(rows, message, requested=_requested):
    """Refuse the command, listing every line that would break a stock rule (none: it may go on)."""
    faults = [row for row in rows if not row["ok"]]
    if faults:
        raise InsufficientStockError(
            message.format(count=len(faults)),
            lines=[
                {
                    "product": str(row["product_id"]),
                    "location": row["location"],
                    "quantity": row["on_hand"],
                    "available": row["on_hand"] - row["reserved"],
                    "requested": requested(row),
                }
                for row in faults
            ],
        )


def _result(row):
    """What a line leaves at its location: its quantity and what is available there."""
    return {"location": row["location"], "quantity": row["after"], "available": row["after"] - row["reserved"]}


@events_in_sql(events.StockAdjusted, events.StockSet, events.StockLow)
def adjust_stock_batch(command):
    """Apply every line (a delta or a recount at a location), or none; return each line's resulting stock."""
    rows = _apply_lines(
        [(line.product_id, line.location, line.delta, line.quantity) for line in command.lines],
        reason=command.reason,
        reference=command.reference,
        actor_id=command.actor_id,
        signal_low=True,
    )
    _refuse_lines(
        rows, "{count} line(s) would leave less than reservations hold (or more than the limit); nothing changed."
    )
    return {"lines": [{"product": str(row["product_id"]), **_result(row)} for row in rows]}


@events_in_sql(events.StockAdjusted)
def transfer_stock(command):
    """Move every line's quantity from one location to the other, or nothing; return both sides of each line."""
    if command.from_location == command.to_location:
        raise DuplicateLineError("A transfer needs two different locations.", field="to")
    taken = [(line.product_id, command.from_location, -line.quantity, None) for line in command.lines]
    given = [(line.product_id, command.to_location, line.quantity, None) for line in command.lines]
    rows = _apply_lines(
        taken + given,
        reason=TRANSFER,
        reference=command.reference,
        actor_id=command.actor_id,
        signal_low=False,  # the product's total, so its available, ends as it was
    )
    _refuse_lines(
        rows,
        "{count} line(s) cannot move: not enough available (or over the limit); nothing moved.",
        requested=lambda row: abs(row["amount"]),  # the quantity to move, at either end
    )
    event_log.publish(
        events.StockTransferred(
            from_location=command.from_location,
            to_location=command.to_location,
            reference=command.reference,
            lines=tuple({"product": str(line.product_id), "quantity": line.quantity} for line in command.lines),
        )
    )
    count = len(command.lines)
    return {
        "lines": [
            {"product": str(source["product_id"]), "from": _result(source), "to": _result(target)}
            for source, target in zip(rows[:count], rows[count:], strict=True)
        ]
    }


HANDLERS = {
    AdjustStockBatch: adjust_stock_batch,
    TransferStock: transfer_stock,
}
