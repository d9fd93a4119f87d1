"""Commands of a product's life: create it, change its details, archive it."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, connection

from cqrs_demo.bus import Command
from products import events
from products.errors import DuplicateSkuError, InactiveLocationError
from products.write import representation
from products.write.commands.common import (
    UNSET,
    bump_version,
    bump_version_if_changed,
    category_id,
    check_quantity,
    constraint_name,
    lock_catalogue,
)
from products.write.event_log import publish
from products.write.models import MAIN_LOCATION, Product, StockLevel, StockMovement


@dataclass(frozen=True)
class CreateProduct(Command):
    sku: str
    name: str
    price: Decimal
    description: str = ""
    category: str | None = None  # category slug
    initial_stock: int = 0  # at the main location
    reorder_point: int = 0
    actor_id: int | None = None


@dataclass(frozen=True)
class UpdateProductDetails(Command):
    product_id: UUID
    name: object = UNSET
    description: object = UNSET
    category: object = UNSET  # a slug, None for no category, or UNSET
    price: object = UNSET
    reorder_point: object = UNSET
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchiveProduct(Command):
    product_id: UUID
    expected_version: int | None = None


def _opening_location(initial_stock):
    """Return the id of main, where the opening stock goes, locked FOR SHARE as a stock change locks it.

    An inactive main takes no new stock: a product may still be created there with none.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, is_active FROM products_location WHERE code = %s FOR SHARE", [MAIN_LOCATION])
        main, active = cursor.fetchone()
    if initial_stock and not active:
        raise InactiveLocationError(
            f"Location {MAIN_LOCATION!r} is inactive: an inactive location takes no new stock.", field="initial_stock"
        )
    return main


def create_product(command):
    """Create a product with its stock level and first ledger row; return its representation."""
    check_quantity(command.initial_stock, "initial_stock")
    lock_catalogue()  # its read row shows its category's name: no rename in between
    category = category_id(command.category)
    try:
        product = Product.objects.create(
            sku=command.sku,
            name=command.name,
            description=command.description,
            category_id=category,
            price=command.price,
            reorder_point=command.reorder_point,
        )
    except IntegrityError as error:
        if constraint_name(error) == "product_sku_ci_unique":
            raise DuplicateSkuError(f"A product with SKU {command.sku!r} already exists.") from None
        raise
    main = _opening_location(command.initial_stock)
    StockLevel.objects.create(product=product, location_id=main, quantity=command.initial_stock)
    # Every product's ledger starts here, so the deltas always add up to the quantity.
    StockMovement.objects.create(
        product=product,
        location_id=main,
        delta=command.initial_stock,
        quantity_after=command.initial_stock,
        reason="initial stock",
        created_by_id=command.actor_id,
    )
    publish(events.ProductCreated(product_id=product.id))
    return representation.product(product.id)


def update_product_details(command):
    """Change any of name, description, category, price and reorder point; return the representation.

    Values equal to the current ones change nothing: the version stays and no event is published.
    """
    changes = {
        field: getattr(command, field)
        for field in ("name", "description", "price", "reorder_point")
        if getattr(command, field) is not UNSET
    }
    # Its read row shows its category's name: no rename in between. Its own lock before the
    # comparison with the current values, which must see the last change committed.
    lock_catalogue(product_id=command.product_id)
    if command.category is not UNSET:
        changes["category_id"] = category_id(command.category)
    # A change that changes nothing keeps the version (an ETag held stays good) and is no event.
    if bump_version_if_changed(command.product_id, command.expected_version, **changes):
        publish(events.ProductDetailsUpdated(product_id=command.product_id))
    return representation.product(command.product_id)


def archive_product(command):
    """Archive a product: it leaves the read side, its ledger and SKU stay."""
    bump_version(command.product_id, command.expected_version, archive=True)
    publish(events.ProductArchived(product_id=command.product_id))


HANDLERS = {
    CreateProduct: create_product,
    UpdateProductDetails: update_product_details,
    ArchiveProduct: archive_product,
}
