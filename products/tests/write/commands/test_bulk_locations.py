"""BulkImportProducts at several locations: the writes and events of the row-by-row import."""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction

from cqrs_demo.bus import bus
from products.management.bulk_import import import_products_bulk
from products.management.csv_format import import_products
from products.read.rebuild import differences
from products.tests.write.commands.test_bulk import _normalized, last_event_id
from products.write import commands
from products.write.models import EventRecord, Product, StockLevel, StockMovement

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        settings.CQRS_MODE == "split", reason="rolls back a savepoint the split-mode read store is not part of"
    ),
]

# One row per SKU and location (as export_products writes them): the row-by-row import then
# writes the same events as the bulk one, event for event.
FILE = """sku,name,description,category,category_name,price,location,quantity
HT-001,Claw hammer,16 oz,hand-tools,,12.50,main,40
HT-001,Claw hammer,16 oz,hand-tools,,12.50,east,6
HT-002,Mallet,,hand-tools,,5.00,east,2
HT-002,Mallet,,hand-tools,,5.00,west,0
NEW-1,Opens at main,,,,1.00,main,3
NEW-1,Opens at main,,,,1.00,east,4
NEW-2,Opens elsewhere,,,,1.00,west,5
NEW-2,Opens elsewhere,,,,1.00,main,1
NEW-3,Nothing at east,,,,1.00,east,0
NEW-4,Closed,,,,1.00,closed,1
NEW-5,Closed but none,,,,1.00,closed,0
LOW-1,Low,,,,1.00,main,7
LOW-1,Low,,,,1.00,east,0
"""


@pytest.fixture
def locations(make_product):
    for code in ("east", "west", "closed"):
        bus.dispatch(commands.CreateLocation(code=code, name=code.title()))
    bus.dispatch(commands.ChangeLocation(code="closed", is_active=False))
    bus.dispatch(commands.CreateCategory(slug="hand-tools", name="Hand tools"))
    hammer = make_product(sku="HT-001", name="Old hammer", price=Decimal(10), initial_stock=3, category="hand-tools")
    bus.dispatch(commands.AdjustStock(product_id=hammer, delta=1, location="east"))
    make_product(sku="HT-002", name="Mallet", category="hand-tools", price=Decimal(5), initial_stock=7)
    # Reorder point 5, 10 at main and 2 at east, 3 of them held: the recount at main takes it
    # to 6 available (not low), then the one at east to 4 (low: a StockLow after its StockSet).
    low = make_product(sku="LOW-1", name="Low", price=Decimal(1), initial_stock=10)
    bus.dispatch(commands.UpdateProductDetails(product_id=low, reorder_point=5))
    bus.dispatch(commands.AdjustStock(product_id=low, delta=2, location="east"))
    bus.dispatch(commands.PlaceReservation(lines=(commands.ReservationLine(product_id=low, quantity=3),)))


def ledger_mismatches():
    """Return the stock levels that differ from the sum of their ledger rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.product_id, s.location_id FROM products_stocklevel s"
            " LEFT JOIN (SELECT product_id, location_id, sum(delta) AS total FROM products_stockmovement"
            "            GROUP BY product_id, location_id) m USING (product_id, location_id)"
            " WHERE m.total IS DISTINCT FROM s.quantity"
        )
        return cursor.fetchall()


def state(after_event_id):
    """Return the write tables and the events after ``after_event_id``, ids and times left out."""
    products = sorted(Product.objects.values_list("sku", "name", "price", "version", "category__slug"))
    stock = sorted(StockLevel.objects.values_list("product__sku", "location__code", "quantity"))
    ledger = list(
        StockMovement.objects.order_by("product__sku", "id").values_list(
            "product__sku", "location__code", "delta", "quantity_after", "reason"
        )
    )
    skus = dict(Product.objects.values_list("id", "sku"))
    logged = {}
    for record in EventRecord.objects.filter(id__gt=after_event_id).order_by("id"):
        logged.setdefault(skus.get(record.product_id), []).append((record.type, _normalized(record.payload)))
    return products, stock, ledger, logged


def test_bulk_writes_what_the_row_by_row_import_writes_at_several_locations(locations):
    mark = last_event_id()
    with transaction.atomic():
        expected_report = import_products(io.StringIO(FILE))
        expected = state(mark)
        transaction.set_rollback(True)
    report = import_products_bulk(io.StringIO(FILE))
    assert state(mark) == expected
    assert report.errors == expected_report.errors
    assert [line for line, _ in report.errors] == [11]
    assert (report.created, report.updated, report.unchanged) == (4, 3, 0)
    logged = expected[3]
    assert [event for event, _ in logged["LOW-1"]] == ["StockSet", "StockSet", "StockLow"]
    assert logged["LOW-1"][-1][1]["available"] == 4
    assert [event for event, _ in logged["NEW-2"]] == ["ProductCreated", "StockSet", "StockSet"]
    assert [payload["product"]["version"] for _, payload in logged["NEW-2"]] == [1, 2, 3]
    assert [payload["product"]["quantity"] for _, payload in logged["NEW-2"]] == [0, 5, 6]
    assert differences() == []
    assert ledger_mismatches() == []


def test_loading_the_same_file_again_changes_nothing(locations):
    import_products_bulk(io.StringIO(FILE))
    mark = last_event_id()
    before = state(mark)
    report = import_products_bulk(io.StringIO(FILE))
    assert state(mark) == before
    assert (report.created, report.updated, report.unchanged) == (0, 0, 7)
