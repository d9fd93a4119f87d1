"""Commands of a product's stock: adjust it by a delta, set it to a counted quantity.

Stock changes are single conditional UPDATEs: the database checks the bounds and
serializes concurrent changes on the row, so no update is lost and stock never goes
negative. Both lock the product row first (by bumping its version), as every writer does.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone

from cqrs_demo.bus import Command
from products import events
from products.errors import InsufficientStockError, StockLimitError
from products.write import representation
from products.write.commands.common import bump_version, check_quantity, raise_missing_or_stale
from products.write.event_log import publish
from products.write.models import MAX_QUANTITY, StockLevel, StockMovement


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


# One round trip for the hot path: lock the product row (checking If-Match in the same
# UPDATE), change the quantity only within its bounds, and append the ledger row. Under
# concurrency PostgreSQL re-evaluates the stock condition on the latest committed row, so
# no update is lost and stock never goes below zero. A step that does not apply returns
# nothing, and the handler then finds out why.
_ADJUST_STOCK_SQL = """
    WITH product AS (
        UPDATE products_product SET version = version + 1, updated_at = %(now)s
         WHERE id = %(product_id)s AND NOT is_archived {version_check}
        RETURNING id
    ), stock AS (
        UPDATE products_stocklevel s SET quantity = s.quantity + %(delta)s
          FROM product
         WHERE s.product_id = product.id AND s.quantity + %(delta)s::bigint BETWEEN 0 AND %(max)s
        RETURNING s.product_id, s.quantity
    ), movement AS (
        INSERT INTO products_stockmovement (product_id, delta, quantity_after, reason, created_at, created_by_id)
        SELECT product_id, %(delta)s, quantity, %(reason)s, %(now)s, %(actor_id)s FROM stock
        RETURNING id, quantity_after
    )
    SELECT (SELECT count(*) FROM product), (SELECT id FROM movement), (SELECT quantity_after FROM movement)
"""


def adjust_stock(command):
    """Add ``delta`` (negative for a sale) to the stock, refusing to go below zero; return the product."""
    params = {
        "product_id": command.product_id,
        "delta": command.delta,
        "max": MAX_QUANTITY,
        "reason": command.reason,
        "actor_id": command.actor_id,
        "now": timezone.now(),
        "expected_version": command.expected_version,
    }
    version_check = "AND version = %(expected_version)s" if command.expected_version is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(_ADJUST_STOCK_SQL.format(version_check=version_check), params)
        locked, movement_id, quantity = cursor.fetchone()
    if not locked:
        raise_missing_or_stale(command.product_id)
    if movement_id is None:
        # The product row is locked by this transaction, so the quantity read here is current.
        quantity = StockLevel.objects.values_list("quantity", flat=True).get(product_id=command.product_id)
        if command.delta < 0:
            raise InsufficientStockError(f"Only {quantity} in stock; cannot remove {-command.delta}.")
        raise StockLimitError(f"Stock cannot exceed {MAX_QUANTITY}; it is {quantity}.", field="delta")
    publish(
        events.StockAdjusted(
            product_id=command.product_id, movement_id=movement_id, delta=command.delta, quantity=quantity
        )
    )
    return representation.product(command.product_id)


def set_stock(command):
    """Set the stock to a counted quantity, recording the delta it implies; return the product."""
    check_quantity(command.quantity, "quantity")
    bump_version(command.product_id, command.expected_version)
    # The version bump above holds the product row lock, which every stock writer takes first.
    stock = StockLevel.objects.get(product_id=command.product_id)
    delta = command.quantity - stock.quantity
    StockLevel.objects.filter(product_id=command.product_id).update(quantity=command.quantity)
    movement = StockMovement.objects.create(
        product_id=command.product_id,
        delta=delta,
        quantity_after=command.quantity,
        reason=command.reason,
        created_by_id=command.actor_id,
    )
    publish(
        events.StockSet(product_id=command.product_id, movement_id=movement.id, delta=delta, quantity=command.quantity)
    )
    return representation.product(command.product_id)


HANDLERS = {
    AdjustStock: adjust_stock,
    SetStock: set_stock,
}
