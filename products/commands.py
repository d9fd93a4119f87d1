"""Commands and their handlers: the only code that writes the write model.

Each handler runs inside the transaction the bus opens for it, changes rows in a fixed
order (the product row first, then its stock), and publishes the events that describe
what happened. Stock changes are single conditional UPDATEs: the database checks the
bounds and serializes concurrent changes on the row, so no update is lost and stock
never goes negative.
"""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, connection
from django.db.models import F
from django.utils import timezone

from cqrs_demo.bus import Command
from products import events
from products.errors import (
    CategoryNotFoundError,
    DuplicateCategoryError,
    DuplicateSkuError,
    InsufficientStockError,
    ProductNotFoundError,
    StockLimitError,
    UnknownCategoryError,
    VersionMismatchError,
)
from products.events import publish
from products.models import MAX_QUANTITY, Category, Product, StockLevel, StockMovement


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()  # "leave this field as it is", distinct from None ("clear it")


@dataclass(frozen=True)
class CreateCategory(Command):
    slug: str
    name: str


@dataclass(frozen=True)
class RenameCategory(Command):
    slug: str
    name: str


@dataclass(frozen=True)
class CreateProduct(Command):
    sku: str
    name: str
    price: Decimal
    description: str = ""
    category: str | None = None  # category slug
    initial_stock: int = 0
    actor_id: int | None = None


@dataclass(frozen=True)
class UpdateProductDetails(Command):
    product_id: UUID
    name: object = UNSET
    description: object = UNSET
    category: object = UNSET  # a slug, None for no category, or UNSET
    price: object = UNSET
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchiveProduct(Command):
    product_id: UUID
    expected_version: int | None = None


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


def _constraint_name(error):
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _category_id(slug):
    if slug is None:
        return None
    category_id = Category.objects.filter(slug=slug).values_list("id", flat=True).first()
    if category_id is None:
        raise UnknownCategoryError(f"Category {slug!r} does not exist.")
    return category_id


def _bump_version(product_id, expected_version, **changes):
    """Lock the product row by updating it (version + 1, and any ``changes``).

    The expected version is compared in the UPDATE itself, so two writers holding the
    same ETag cannot both succeed.
    """
    rows = Product.objects.filter(id=product_id, is_archived=False)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(version=F("version") + 1, updated_at=timezone.now(), **changes):
        _raise_missing_or_stale(product_id)


def _raise_missing_or_stale(product_id):
    """Raise the reason a product could not be locked for a change."""
    if not Product.objects.filter(id=product_id, is_archived=False).exists():
        raise ProductNotFoundError("Product not found.")
    raise VersionMismatchError("The product has changed since you read it (If-Match does not match).")


def create_category(command):
    """Create a category and return its slug."""
    try:
        Category.objects.create(slug=command.slug, name=command.name)
    except IntegrityError:
        raise DuplicateCategoryError(f"A category with slug {command.slug!r} already exists.") from None
    publish(events.CategoryCreated(slug=command.slug))
    return command.slug


def rename_category(command):
    """Rename a category; every product in it shows the new name."""
    updated = Category.objects.filter(slug=command.slug).update(name=command.name, updated_at=timezone.now())
    if not updated:
        raise CategoryNotFoundError("Category not found.")
    publish(events.CategoryRenamed(slug=command.slug, name=command.name))
    return command.slug


def _check_quantity(quantity, field):
    # The database's check constraint would refuse it too, but as an IntegrityError (a 500).
    if not 0 <= quantity <= MAX_QUANTITY:
        raise StockLimitError(f"Stock must be between 0 and {MAX_QUANTITY}.", field=field)


def create_product(command):
    """Create a product with its stock level and first ledger row; return its id."""
    _check_quantity(command.initial_stock, "initial_stock")
    category_id = _category_id(command.category)
    try:
        product = Product.objects.create(
            sku=command.sku,
            name=command.name,
            description=command.description,
            category_id=category_id,
            price=command.price,
        )
    except IntegrityError as error:
        if _constraint_name(error) == "product_sku_ci_unique":
            raise DuplicateSkuError(f"A product with SKU {command.sku!r} already exists.") from None
        raise
    StockLevel.objects.create(product=product, quantity=command.initial_stock)
    # Every product's ledger starts here, so the deltas always add up to the quantity.
    StockMovement.objects.create(
        product=product,
        delta=command.initial_stock,
        quantity_after=command.initial_stock,
        reason="initial stock",
        created_by_id=command.actor_id,
    )
    publish(events.ProductCreated(product_id=product.id))
    return product.id


def update_product_details(command):
    """Change any of name, description, category and price."""
    changes = {
        field: getattr(command, field)
        for field in ("name", "description", "price")
        if getattr(command, field) is not UNSET
    }
    if command.category is not UNSET:
        changes["category_id"] = _category_id(command.category)
    _bump_version(command.product_id, command.expected_version, **changes)
    publish(events.ProductDetailsUpdated(product_id=command.product_id))
    return command.product_id


def archive_product(command):
    """Archive a product: it leaves the read side, its ledger and SKU stay."""
    _bump_version(command.product_id, command.expected_version, is_archived=True)
    publish(events.ProductArchived(product_id=command.product_id))
    return command.product_id


def _record_movement(command, delta, quantity_after):
    return StockMovement.objects.create(
        product_id=command.product_id,
        delta=delta,
        quantity_after=quantity_after,
        reason=command.reason,
        created_by_id=command.actor_id,
    )


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
    """Add ``delta`` (negative for a sale) to the stock; refuse to go below zero."""
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
        _raise_missing_or_stale(command.product_id)
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
    return command.product_id


def set_stock(command):
    """Set the stock to a counted quantity, recording the delta it implies."""
    _check_quantity(command.quantity, "quantity")
    _bump_version(command.product_id, command.expected_version)
    # The version bump above holds the product row lock, which every stock writer takes first.
    stock = StockLevel.objects.get(product_id=command.product_id)
    delta = command.quantity - stock.quantity
    StockLevel.objects.filter(product_id=command.product_id).update(quantity=command.quantity)
    movement = _record_movement(command, delta, command.quantity)
    publish(
        events.StockSet(product_id=command.product_id, movement_id=movement.id, delta=delta, quantity=command.quantity)
    )
    return command.product_id


HANDLERS = {
    CreateCategory: create_category,
    RenameCategory: rename_category,
    CreateProduct: create_product,
    UpdateProductDetails: update_product_details,
    ArchiveProduct: archive_product,
    AdjustStock: adjust_stock,
    SetStock: set_stock,
}
