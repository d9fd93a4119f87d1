"""CreateProduct, UpdateProductDetails and ArchiveProduct."""

import uuid
from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.errors import (
    DuplicateSkuError,
    ProductNotFoundError,
    StockLimitError,
    UnknownCategoryError,
    VersionMismatchError,
)
from products.write import commands
from products.write.models import Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def create(**fields):
    values = {"sku": "HT-001", "name": "Claw hammer", "price": Decimal("12.50")}
    values.update(fields)
    return bus.dispatch(commands.CreateProduct(**values))["id"]


def test_create_product_stores_product_stock_and_opening_ledger_row(make_category, admin_user):
    slug = make_category()
    product_id = create(description="Steel", category=slug, initial_stock=40, actor_id=admin_user.pk)
    product = Product.objects.get(id=product_id)
    assert (product.sku, product.name, product.description, product.category.slug, product.price) == (
        "HT-001",
        "Claw hammer",
        "Steel",
        slug,
        Decimal("12.50"),
    )
    assert product.version == 1
    assert not product.is_archived
    assert StockLevel.objects.get(product_id=product_id).quantity == 40
    movement = StockMovement.objects.get(product_id=product_id)
    assert (movement.delta, movement.quantity_after, movement.reason, movement.created_by_id) == (
        40,
        40,
        "initial stock",
        admin_user.pk,
    )


def test_create_product_without_stock_still_opens_the_ledger():
    product_id = create()
    assert list(StockMovement.objects.filter(product_id=product_id).values_list("delta", "quantity_after")) == [(0, 0)]


def test_duplicate_sku_is_refused_regardless_of_case():
    create(sku="HT-001")
    with pytest.raises(DuplicateSkuError) as raised:
        create(sku="ht-001", name="Other")
    assert raised.value.field == "sku"
    assert Product.objects.count() == 1
    assert StockMovement.objects.count() == 1


def test_an_archived_products_sku_is_never_reused(archived_product):
    with pytest.raises(DuplicateSkuError):
        create(sku="gone-1")
    assert list(Product.objects.values_list("id", flat=True)) == [archived_product]


def test_create_product_in_an_unknown_category_is_refused_and_creates_nothing():
    with pytest.raises(UnknownCategoryError) as raised:
        create(category="nope")
    assert raised.value.field == "category"
    assert not Product.objects.exists()
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


def test_update_details_changes_only_the_given_fields_and_bumps_the_version(make_category):
    slug = make_category()
    product_id = create(description="Steel", category=slug)
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, price=Decimal("14.00")))
    product = Product.objects.get(id=product_id)
    assert (product.name, product.description, product.category.slug, product.price, product.version) == (
        "Claw hammer",
        "Steel",
        slug,
        Decimal("14.00"),
        2,
    )


def test_update_details_can_change_every_field_and_clear_the_category(make_category):
    product_id = create(category=make_category())
    bus.dispatch(
        commands.UpdateProductDetails(
            product_id=product_id, name="Sledge", description="Heavy", category=None, price=Decimal("0")
        )
    )
    product = Product.objects.get(id=product_id)
    assert (product.name, product.description, product.category_id, product.price) == (
        "Sledge",
        "Heavy",
        None,
        Decimal("0"),
    )


def test_update_details_moves_a_product_to_another_category(make_category):
    product_id = create(category=make_category())
    target = make_category()
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, category=target))
    assert Product.objects.get(id=product_id).category.slug == target


def test_update_details_to_an_unknown_category_changes_nothing():
    product_id = create()
    with pytest.raises(UnknownCategoryError):
        bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="New", category="nope"))
    product = Product.objects.get(id=product_id)
    assert (product.name, product.version) == ("Claw hammer", 1)


def test_update_details_with_a_stale_version_is_refused_and_changes_nothing():
    product_id = create()
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="Second", expected_version=1))
    with pytest.raises(VersionMismatchError):
        bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="Third", expected_version=1))
    product = Product.objects.get(id=product_id)
    assert (product.name, product.version) == ("Second", 2)


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_update_details_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    product_id = archived_product if known else uuid.uuid4()
    with pytest.raises(ProductNotFoundError):
        bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="Back"))
    assert Product.objects.get(id=archived_product).name != "Back"


def test_archive_product_marks_it_archived_and_keeps_ledger_and_stock():
    product_id = create(initial_stock=3)
    assert bus.dispatch(commands.ArchiveProduct(product_id=product_id)) is None
    product = Product.objects.get(id=product_id)
    assert product.is_archived
    assert product.version == 2
    assert StockLevel.objects.get(product_id=product_id).quantity == 3
    assert StockMovement.objects.filter(product_id=product_id).count() == 1


def test_archive_with_a_stale_version_is_refused():
    product_id = create()
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="Second"))
    with pytest.raises(VersionMismatchError):
        bus.dispatch(commands.ArchiveProduct(product_id=product_id, expected_version=1))
    assert not Product.objects.get(id=product_id).is_archived


def test_archive_with_the_current_version_applies():
    product_id = create()
    bus.dispatch(commands.ArchiveProduct(product_id=product_id, expected_version=1))
    assert Product.objects.get(id=product_id).is_archived


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_archive_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    with pytest.raises(ProductNotFoundError):
        bus.dispatch(commands.ArchiveProduct(product_id=archived_product if known else uuid.uuid4()))
    assert Product.objects.get(id=archived_product).version == 3


@pytest.mark.parametrize("initial_stock", [-1, 1_000_000_001])
def test_create_product_with_initial_stock_outside_the_allowed_range_is_refused(initial_stock):
    with pytest.raises(StockLimitError) as raised:
        create(initial_stock=initial_stock)
    assert raised.value.field == "initial_stock"
    assert not Product.objects.exists()
