"""Migration 0007 (stock per location) keeps existing stock and ledger rows, at main."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from products.read.models import StockLevelView
from products.write.models import Product, StockLevel, StockMovement

BEFORE = [("products", "0006_product_search_table")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_existing_stock_and_ledger_rows_go_to_main():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("products")
    product_id = uuid.uuid4()
    _migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO products_product (id, sku, name, description, price, version, is_archived,"
                " created_at, updated_at) VALUES (%s, 'OLD-1', 'Old', '', 1, 2, false, now(), now())",
                [product_id],
            )
            cursor.execute("INSERT INTO products_stocklevel (product_id, quantity) VALUES (%s, 7)", [product_id])
            cursor.execute(
                "INSERT INTO products_stockmovement (product_id, delta, quantity_after, reason, created_at)"
                " VALUES (%s, 10, 10, 'initial stock', now()), (%s, -3, 7, 'sale', now())",
                [product_id, product_id],
            )
    finally:
        _migrate(latest)
    assert list(StockLevel.objects.filter(product_id=product_id).values_list("location__code", "quantity")) == [
        ("main", 7)
    ]
    ledger = StockMovement.objects.filter(product_id=product_id).order_by("id")
    assert list(ledger.values_list("location__code", "delta", "reference")) == [("main", 10, None), ("main", -3, None)]
    assert Product.objects.get(id=product_id).reorder_point == 0
    # The migration fills read_stock_level from the write tables beside it.
    read = StockLevelView.objects.filter(product_id=product_id)
    assert list(read.values_list("location", "quantity")) == [("main", 7)]
