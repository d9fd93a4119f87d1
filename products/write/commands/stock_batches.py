"""Commands of several stock changes at once, all or nothing: a batch of adjustments, a transfer between locations.

Each takes its products' locks in key order (so two batches naming the same products in
opposite orders never deadlock), then reads every line with a fresh snapshot
(``STOCK_LINES_STEPS``) and refuses the whole command, listing every line at fault, when
any line would leave less than what active reservations hold there (or more than the
limit). Only then does it apply the lines, one stock statement each
(``products.write.commands.stock``): each bumps its product's version, writes its ledger
row and appends its ``StockAdjusted`` or ``StockSet`` event, as a single change would. The
locks make the check hold until the command commits; the bus's transaction makes it all or
nothing.
"""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Command
from products import events
from products.errors import DuplicateLineError, InsufficientStockError
from products.sql import fetch_dicts
from products.write import event_log
from products.write.commands.common import (
    STOCK_LINES_STEPS,
    check_distinct_lines,
    lock_products,
    raise_unknown_lines,
    stock_lines_params,
)
from products.write.commands.stock import AdjustStock, SetStock, adjust_stock, set_stock
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


_LINES_SQL = f"WITH {STOCK_LINES_STEPS} SELECT * FROM line ORDER BY n"


def _checked_lines(lines):
    """Lock the lines' products, then read the lines; ``lines`` are (product_id, location, delta, counted) tuples."""
    check_distinct_lines([(product_id, location) for product_id, location, _, _ in lines])
    lock_products([product_id for product_id, _, _, _ in lines], [location for _, location, _, _ in lines])
    rows = fetch_dicts(_LINES_SQL, stock_lines_params(lines))
    raise_unknown_lines(rows)
    for row in rows:
        row["after"] = row["counted"] if row["counted"] is not None else row["on_hand"] + row["amount"]
    return rows


def _requested(row):
    return row["amount"] if row["counted"] is None else row["counted"]


def _refuse_lines(rows, message, requested=_requested):
    """Refuse the command, listing every line that would break a stock rule (none: it may go on)."""
    faults = [row for row in rows if not row["reserved"] <= row["after"] <= MAX_QUANTITY]
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


def adjust_stock_batch(command):
    """Apply every line (a delta or a recount at a location), or none; return each line's resulting stock."""
    rows = _checked_lines([(line.product_id, line.location, line.delta, line.quantity) for line in command.lines])
    _refuse_lines(
        rows, "{count} line(s) would leave less than reservations hold (or more than the limit); nothing changed."
    )
    for line in command.lines:
        common = {
            "product_id": line.product_id,
            "reason": command.reason,
            "location": line.location,
            "reference": command.reference,
            "actor_id": command.actor_id,
        }
        if line.quantity is None:
            adjust_stock(AdjustStock(delta=line.delta, **common))
        else:
            set_stock(SetStock(quantity=line.quantity, **common))
    return {"lines": [{"product": str(row["product_id"]), **_result(row)} for row in rows]}


def transfer_stock(command):
    """Move every line's quantity from one location to the other, or nothing; return both sides of each line."""
    if command.from_location == command.to_location:
        raise DuplicateLineError("A transfer needs two different locations.", field="to")
    taken = [(line.product_id, command.from_location, -line.quantity, None) for line in command.lines]
    given = [(line.product_id, command.to_location, line.quantity, None) for line in command.lines]
    rows = _checked_lines(taken + given)
    _refuse_lines(
        rows,
        "{count} line(s) cannot move: not enough available (or over the limit); nothing moved.",
        requested=lambda row: abs(row["amount"]),  # the quantity to move, at either end
    )
    for product_id, location, delta, _ in taken + given:
        adjust_stock(
            AdjustStock(
                product_id=product_id,
                delta=delta,
                reason=TRANSFER,
                location=location,
                reference=command.reference,
                actor_id=command.actor_id,
                signal_low=False,  # the product's total, so its available, ends as it was
            )
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
