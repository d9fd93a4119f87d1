"""AdjustStockBatch and TransferStock: one ledger row and one event per line, each with the state its line left."""

from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products import events
from products.errors import InsufficientStockError
from products.read import rebuild
from products.tests.write.commands.test_stock_locations import Held, Waiting, _blocked_by
from products.write import commands
from products.write.event_log import payload_of
from products.write.models import EventRecord, Product, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(db):
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    return "east"


def _events_after(event_id):
    return list(EventRecord.objects.filter(id__gt=event_id).order_by("id"))


def _shown(product_id):
    """Return the product's state and ledger rows (by id) as the event log renders them in Python."""
    state = payload_of(events.ProductCreated(product_id=product_id))
    return state["product"], {movement["id"]: movement for movement in state["movements"]}


def test_each_line_of_a_batch_has_its_ledger_row_and_event_with_the_state_it_left(make_product, east):
    first, second = make_product(initial_stock=10), make_product(initial_stock=10)
    since = EventRecord.objects.latest("id").id
    lines = (
        commands.BatchLine(product_id=first, delta=-3),
        commands.BatchLine(product_id=second, quantity=4),
        commands.BatchLine(product_id=first, delta=5, location=east),
    )
    bus.dispatch(commands.AdjustStockBatch(lines=lines, reason="delivery", reference="PO-1"))

    logged = _events_after(since)
    assert [(record.type, record.product_id) for record in logged] == [
        ("StockAdjusted", first),
        ("StockSet", second),
        ("StockAdjusted", first),
    ]
    # The product's quantity (over its locations) and version after each line, not after the batch.
    assert [
        (r.payload["quantity"], r.payload["product"]["quantity"], r.payload["product"]["version"]) for r in logged
    ] == [
        (7, 7, 2),
        (4, 4, 2),
        (12, 12, 3),
    ]
    ledger = list(StockMovement.objects.filter(reference="PO-1").order_by("id"))
    assert [(row.product_id, row.location.code, row.delta, row.quantity_after) for row in ledger] == [
        (first, "main", -3, 7),
        (second, "main", -6, 4),
        (first, "east", 5, 5),
    ]
    assert [record.payload["movement_id"] for record in logged] == [row.id for row in ledger]
    for record in logged:
        _product, movements = _shown(record.product_id)
        assert record.payload["movement"] == movements[record.payload["movement_id"]]
        assert record.payload["location"] == record.payload["movement"]["location"]
        assert record.payload["delta"] == record.payload["movement"]["delta"]
    for record in logged[1:]:  # the last line of each product: its state now
        assert record.payload["product"] == _shown(record.product_id)[0]
    assert Product.objects.get(id=first).version == 3
    assert rebuild.differences() == []


def test_stock_low_comes_right_after_the_event_of_the_line_that_took_the_product_low(make_product, east):
    low, other = make_product(initial_stock=10, reorder_point=5), make_product(initial_stock=10)
    since = EventRecord.objects.latest("id").id
    lines = (
        commands.BatchLine(product_id=low, delta=-6),  # 4 available: low
        commands.BatchLine(product_id=other, delta=1),
        commands.BatchLine(product_id=low, delta=7, location=east),  # 11: above again
    )
    bus.dispatch(commands.AdjustStockBatch(lines=lines))
    assert [(record.type, record.product_id) for record in _events_after(since)] == [
        ("StockAdjusted", low),
        ("StockLow", low),
        ("StockAdjusted", other),
        ("StockAdjusted", low),
    ]
    assert _events_after(since)[1].payload == {"product_id": str(low), "available": 4, "reorder_point": 5}


def test_a_transfer_writes_a_ledger_row_and_an_event_per_leg_then_stock_transferred(make_product, east):
    first, second = make_product(initial_stock=10), make_product(initial_stock=3)
    since = EventRecord.objects.latest("id").id
    lines = (commands.TransferLine(product_id=second, quantity=3), commands.TransferLine(product_id=first, quantity=4))
    bus.dispatch(commands.TransferStock(from_location="main", to_location=east, lines=lines, reference="T-9"))
    logged = _events_after(since)
    assert [
        (r.type, r.product_id, r.payload.get("location"), r.payload.get("delta"), r.payload.get("quantity"))
        for r in logged
    ] == [
        ("StockAdjusted", second, "main", -3, 0),
        ("StockAdjusted", first, "main", -4, 6),
        ("StockAdjusted", second, "east", 3, 3),
        ("StockAdjusted", first, "east", 4, 10),
        ("StockTransferred", None, None, None, None),
    ]
    assert [record.payload["product"]["version"] for record in logged[:4]] == [2, 2, 3, 3]
    for record in logged[2:4]:
        assert record.payload["product"] == _shown(record.product_id)[0]
    ledger = StockMovement.objects.filter(reference="T-9").order_by("id")
    assert [row.id for row in ledger] == [record.payload["movement_id"] for record in logged[:4]]
    assert {row.reason for row in ledger} == {"transfer"}
    assert rebuild.differences() == []


def test_a_refused_batch_lists_every_line_at_fault_and_writes_nothing(make_product, east):
    first, second = make_product(initial_stock=10), make_product(initial_stock=2)
    since = EventRecord.objects.latest("id").id
    lines = (
        commands.BatchLine(product_id=first, delta=-11),
        commands.BatchLine(product_id=second, delta=1),
        commands.BatchLine(product_id=second, quantity=-1, location=east),
        commands.BatchLine(product_id=first, quantity=1_000_000_001, location=east),
    )
    with pytest.raises(InsufficientStockError) as refused:
        bus.dispatch(commands.AdjustStockBatch(lines=lines))
    assert [(line["product"], line["location"], line["requested"]) for line in refused.value.details["lines"]] == [
        (str(first), "main", -11),
        (str(second), "east", -1),
        (str(first), "east", 1_000_000_001),
    ]
    assert _events_after(since) == []
    assert Product.objects.get(id=second).version == 1


@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_waited_for_an_import_counts_the_stock_it_set_at_another_location():
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    product_id = bus.dispatch(commands.CreateProduct(sku="WAIT-1", name="W", price=Decimal(1), initial_stock=10))["id"]
    row = (2, "WAIT-1", "W", "", None, None, "1.00", 7, "east")
    importing = Held(lambda: bus.dispatch(commands.BulkImportProducts(rows=[row], columns=frozenset()))).hold()
    line = commands.BatchLine(product_id=product_id, delta=-1)
    batch = Waiting(lambda: bus.dispatch(commands.AdjustStockBatch(lines=(line,))))
    try:
        batch.start()
        batch.started.wait()
        assert _blocked_by(batch.pid, importing.pid)  # on the product's row, the import's only lock it shares
    finally:
        importing.end()
    batch.join()
    assert batch.error is None, batch.error
    # The batch's statement reads after the import committed: the total counts east's 7.
    assert EventRecord.objects.latest("id").payload["quantity"] == 16
