"""Migrations that move data keep it: 0007 (stock per location), 0012 (the relay's position per broker)."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from products.read.models import StockLevelView
from products.write import relay
from products.write.models import EventRecord, Product, RelayPosition, StockLevel, StockMovement

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


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_rabbitmq_relay_resumes_after_the_last_event_it_published_in_order():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("products")
    _migrate([("products", "0011_deployment")])
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE products_event SET published_at = now()")  # main's LocationCreated
            # Published, published, not yet, published: the relay stops before the first gap.
            cursor.execute(
                "INSERT INTO products_event (type, payload, created_at, published_at) VALUES"
                " ('ProductArchived', '{}', now(), now()), ('ProductArchived', '{}', now(), now()),"
                " ('ProductArchived', '{}', now(), NULL), ('ProductArchived', '{}', now(), now())"
                " RETURNING id"
            )
            ids = sorted(row[0] for row in cursor.fetchall())
    finally:
        _migrate(latest)
    position = RelayPosition.objects.get(name="rabbitmq")
    assert position.last_event_id == ids[1]
    assert position.last_xact_id == EventRecord.objects.get(id=ids[1]).xact_id
    assert relay.backlog("rabbitmq") == 2  # the gap and the one after it: published again, at least once
    assert relay.backlog("kafka") == EventRecord.objects.count()  # a new broker starts at the log's start
    EventRecord.objects.filter(id__in=ids).delete()  # they are no events of the contract
