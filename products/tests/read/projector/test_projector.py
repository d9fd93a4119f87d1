"""The projector keeps each read row equal to what the write tables imply."""

from decimal import Decimal

import pytest
from django.db import connections, transaction

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products import events
from products.read import projector, queries, rebuild
from products.read.models import CategoryView, ProductView, StockMovementView
from products.tests.conftest import SPLIT
from products.write import commands
from products.write.models import EventRecord, Product, StockMovement

pytestmark = pytest.mark.django_db


def ledger(product_id):
    fields = ("id", "delta", "quantity_after", "reason", "created_at")
    return (
        list(StockMovement.objects.filter(product_id=product_id).order_by("id").values_list(*fields)),
        list(StockMovementView.objects.filter(product_id=product_id).order_by("id").values_list(*fields)),
    )


def test_every_command_leaves_the_read_row_equal_to_the_write_side(
    make_category, make_product, expected_read_row, read_row
):
    tools, garden = make_category(name="Tools"), make_category(name="Garden")
    product_id = make_product(sku="HT-001", name="Hammer", category=tools, initial_stock=2)
    steps = [
        commands.UpdateProductDetails(product_id=product_id, name="Claw hammer", price=Decimal("12.50")),
        commands.UpdateProductDetails(product_id=product_id, description="Forged", category=garden),
        commands.UpdateProductDetails(product_id=product_id, category=None),
        commands.AdjustStock(product_id=product_id, delta=-2),
        commands.AdjustStock(product_id=product_id, delta=9),
        commands.SetStock(product_id=product_id, quantity=0),
        commands.SetStock(product_id=product_id, quantity=4),
        commands.UpdateProductDetails(product_id=product_id, category=tools),
        commands.RenameCategory(slug=tools, name="Hand tools"),
    ]
    assert read_row(product_id) == expected_read_row(product_id)
    for command in steps:
        bus.dispatch(command)
        assert read_row(product_id) == expected_read_row(product_id), command
        written, read = ledger(product_id)
        assert read == written, command
    assert read_row(product_id)["category_name"] == "Hand tools"


def test_in_stock_follows_the_quantity(make_product):
    product_id = make_product(initial_stock=0)
    assert bus.ask(queries.GetProduct(product_id=product_id))["in_stock"] is False
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1))
    assert bus.ask(queries.GetProduct(product_id=product_id))["in_stock"] is True


def test_a_failed_command_leaves_the_read_side_as_it_was(make_product, snapshot_read_tables):
    product_id = make_product(initial_stock=1)
    before = snapshot_read_tables()
    with pytest.raises(Exception):  # noqa: B017 (any refusal will do; the point is what it leaves)
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-2))
    assert snapshot_read_tables() == before


def test_a_category_rename_reaches_every_product_in_it(make_category, make_product, read_row):
    tools, other = make_category(name="Tools"), make_category(name="Other")
    in_tools = [make_product(category=tools) for _ in range(5)]
    elsewhere = [make_product(category=other), make_product()]
    bus.dispatch(commands.RenameCategory(slug=tools, name="Hand tools"))
    assert [read_row(product_id)["category_name"] for product_id in in_tools] == ["Hand tools"] * 5
    assert [read_row(product_id)["category_name"] for product_id in elsewhere] == ["Other", None]
    assert CategoryView.objects.get(slug=tools).name == "Hand tools"


def test_archive_removes_the_read_row_and_its_movements(make_product, read_row):
    product_id = make_product(initial_stock=3)
    kept = make_product(initial_stock=1)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=2))
    bus.dispatch(commands.ArchiveProduct(product_id=product_id))
    assert read_row(product_id) is None
    assert not StockMovementView.objects.filter(product_id=product_id).exists()
    assert StockMovement.objects.filter(product_id=product_id).count() == 2
    assert read_row(kept) is not None
    assert StockMovementView.objects.filter(product_id=kept).count() == 1


# transaction=True: in split mode the rebuild starts the write side's REPEATABLE READ transaction itself.
@pytest.mark.django_db(transaction=True)
def test_rebuild_recreates_every_read_table_after_they_are_emptied(
    make_category, make_product, archived_product, snapshot_read_tables
):
    tools = make_category()
    make_category()
    first = make_product(category=tools, initial_stock=4)
    make_product(description="Long description words")
    bus.dispatch(commands.SetStock(product_id=first, quantity=1))
    before = snapshot_read_tables()
    with connections[read_store_alias()].cursor() as cursor:
        for table in rebuild.READ_TABLES:
            cursor.execute(f"DELETE FROM {table.name}")
    assert not ProductView.objects.exists()
    counts = rebuild.rebuild_all()
    assert snapshot_read_tables() == before
    assert counts["products"] == 2
    assert counts["categories"] == 2
    assert counts["stock movements"] == 3
    assert not ProductView.objects.filter(id=archived_product).exists()


# transaction=True: in split mode the rebuild starts the write side's REPEATABLE READ transaction itself.
@pytest.mark.django_db(transaction=True)
def test_rebuild_reports_progress_for_each_step(make_product):
    make_product()
    calls = []
    rebuild.rebuild_all(progress=lambda *args: calls.append(args))
    assert [(index, total, label) for index, total, label, _ in calls] == [
        (1, 11, "categories"),
        (2, 11, "locations"),
        (3, 11, "products"),
        (4, 11, "search documents"),
        (5, 11, "stock levels"),
        (6, 11, "stock movements"),
        (7, 11, "reservations"),
        (8, 11, "stock holds"),
        (9, 11, "indexes"),
        (10, 11, "analyze"),
        (11, 11, "swap"),
    ]


# transaction=True: in split mode the rebuild starts the write side's REPEATABLE READ transaction itself.
@pytest.mark.django_db(transaction=True)
def test_rebuild_repairs_a_drifted_read_row(make_product, expected_read_row, read_row):
    product_id = make_product(name="Right")
    ProductView.objects.filter(id=product_id).update(name="Wrong", quantity=99)
    rebuild.rebuild_all()
    assert read_row(product_id) == expected_read_row(product_id)


@pytest.mark.skipif(SPLIT, reason="single-database mode's bus handlers; split mode applies the log (test_worker.py)")
def test_single_database_mode_applies_the_payload_the_log_recorded_not_the_write_tables(make_product, read_row):
    # One projection for both modes: the bus handler applies what the event carries, as the
    # worker would, rather than reading the write tables again.
    product_id = make_product(name="Hammer")
    record = EventRecord.objects.get(product_id=product_id, type="ProductCreated")
    product = {
        **record.payload["product"],
        "name": "As the log says",
        "version": record.payload["product"]["version"] + 1,
    }
    payload = {**record.payload, "product": product, "movements": []}
    [handler] = projector.EVENT_HANDLERS[events.ProductDetailsUpdated]
    with transaction.atomic():
        handler(events.ProductDetailsUpdated(product_id=product_id), payload=payload)
    assert read_row(product_id)["name"] == "As the log says"
    assert Product.objects.get(id=product_id).name == "Hammer"
