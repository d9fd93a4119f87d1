"""The log-following projector's steps, applied out of order: a read row never moves back.

The feed hands events over in commit order, but a position that starts from a snapshot
catches up in (xact_id, id) order, and a rebuild's rows may be newer than an event the
worker then meets: whatever the order, a row ends at the highest version.
"""

import orjson
import pytest
from django.db import connections

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.read import worker
from products.read.models import ProductSearchView, ProductView
from products.write import commands
from products.write.models import EventRecord

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.manual_projection]


def _apply(record):
    with connections[read_store_alias()].cursor() as cursor:
        worker.apply_events(cursor, [{"type": record.type, "payload": orjson.dumps(record.payload).decode()}])


def test_a_stock_event_before_the_creation_inserts_the_row_and_the_creation_does_not_undo_it(make_product):
    product_id = make_product(initial_stock=5)
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=9))
    created, stock_set = EventRecord.objects.filter(product_id=product_id).order_by("id")
    ProductView.objects.using(read_store_alias()).filter(id=product_id).delete()

    _apply(stock_set)
    _apply(created)

    row = ProductView.objects.using(read_store_alias()).get(id=product_id)
    assert (row.quantity, row.version) == (9, 2)


def test_an_older_details_event_applied_last_changes_nothing(make_product):
    product_id = make_product()
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="First"))
    bus.dispatch(commands.UpdateProductDetails(product_id=product_id, name="Second"))
    first, second = EventRecord.objects.filter(product_id=product_id, type="ProductDetailsUpdated").order_by("id")

    _apply(second)
    _apply(first)

    row = ProductView.objects.using(read_store_alias()).get(id=product_id)
    assert (row.name, row.version) == ("Second", 3)
    search = ProductSearchView.objects.using(read_store_alias()).get(id=product_id)
    assert "'second'" in str(search.search_document) and "'first'" not in str(search.search_document)
