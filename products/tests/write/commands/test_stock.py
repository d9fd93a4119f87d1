"""AdjustStock and SetStock, and the ledger they write."""

import dataclasses
import uuid

import pytest
from django.db.models import Sum

from cqrs_demo.bus import bus
from products import events
from products.errors import InsufficientStockError, ProductNotFoundError, StockLimitError, VersionMismatchError
from products.write import commands
from products.write.event_log import payload_of
from products.write.models import MAX_QUANTITY, EventRecord, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def state(product_id):
    """Return (quantity, version, ledger rows) of a product."""
    return (
        StockLevel.objects.get(product_id=product_id).quantity,
        Product.objects.get(id=product_id).version,
        list(StockMovement.objects.filter(product_id=product_id).order_by("id").values_list("delta", "quantity_after")),
    )


def test_adjust_stock_adds_and_removes_and_records_each_change(make_product, admin_user):
    product_id = make_product(initial_stock=10)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=5, reason="delivery", actor_id=admin_user.pk))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-12, reason="sale"))
    assert state(product_id) == (3, 3, [(10, 10), (5, 15), (-12, 3)])
    newest = StockMovement.objects.filter(product_id=product_id).latest("id")
    assert newest.reason == "sale"
    assert StockMovement.objects.get(product_id=product_id, delta=5).created_by_id == admin_user.pk


def test_adjust_stock_may_take_the_quantity_to_exactly_zero(make_product):
    product_id = make_product(initial_stock=4)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-4))
    assert state(product_id)[0] == 0


def test_adjust_stock_below_zero_is_refused_and_changes_nothing(make_product):
    product_id = make_product(initial_stock=4)
    before = state(product_id)
    with pytest.raises(InsufficientStockError) as raised:
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-5))
    assert raised.value.code == "insufficient_stock"
    assert state(product_id) == before


def test_adjust_stock_above_the_limit_is_refused_and_changes_nothing(make_product):
    product_id = make_product(initial_stock=MAX_QUANTITY - 1)
    before = state(product_id)
    with pytest.raises(StockLimitError):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=2))
    assert state(product_id) == before
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1))
    assert state(product_id)[0] == MAX_QUANTITY


def test_adjust_stock_with_a_stale_version_is_refused_and_changes_nothing(make_product):
    product_id = make_product(initial_stock=4)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, expected_version=1))
    before = state(product_id)
    with pytest.raises(VersionMismatchError):
        bus.dispatch(commands.AdjustStock(product_id=product_id, delta=1, expected_version=1))
    assert state(product_id) == before


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_adjust_stock_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    before = state(archived_product)
    with pytest.raises(ProductNotFoundError):
        bus.dispatch(commands.AdjustStock(product_id=archived_product if known else uuid.uuid4(), delta=1))
    assert state(archived_product) == before


def test_set_stock_records_the_delta_a_recount_implies(make_product):
    product_id = make_product(initial_stock=10)
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=7, reason="recount"))
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=20))
    assert state(product_id) == (20, 3, [(10, 10), (-3, 7), (13, 20)])
    assert StockMovement.objects.filter(product_id=product_id, delta=-3).get().reason == "recount"


def test_set_stock_to_the_same_quantity_records_a_zero_delta_and_bumps_the_version(make_product):
    product_id = make_product(initial_stock=10)
    bus.dispatch(commands.SetStock(product_id=product_id, quantity=10))
    assert state(product_id) == (10, 2, [(10, 10), (0, 10)])


@pytest.mark.parametrize("quantity", [-1, MAX_QUANTITY + 1])
def test_set_stock_outside_the_allowed_range_is_refused_and_changes_nothing(make_product, quantity):
    product_id = make_product(initial_stock=10)
    before = state(product_id)
    with pytest.raises(StockLimitError):
        bus.dispatch(commands.SetStock(product_id=product_id, quantity=quantity))
    assert state(product_id) == before


def test_set_stock_with_a_stale_version_is_refused_and_changes_nothing(make_product):
    product_id = make_product(initial_stock=10)
    before = state(product_id)
    with pytest.raises(VersionMismatchError):
        bus.dispatch(commands.SetStock(product_id=product_id, quantity=3, expected_version=2))
    assert state(product_id) == before


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_set_stock_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    before = state(archived_product)
    with pytest.raises(ProductNotFoundError):
        bus.dispatch(commands.SetStock(product_id=archived_product if known else uuid.uuid4(), quantity=1))
    assert state(archived_product) == before


def test_every_stock_change_writes_one_ledger_row_and_the_deltas_add_up(make_product):
    product_id = make_product(initial_stock=3)
    changes = [
        commands.AdjustStock(product_id=product_id, delta=7),
        commands.SetStock(product_id=product_id, quantity=4),
        commands.AdjustStock(product_id=product_id, delta=-4),
        commands.SetStock(product_id=product_id, quantity=9),
        commands.AdjustStock(product_id=product_id, delta=-1),
    ]
    for number, change in enumerate(changes, start=2):
        bus.dispatch(change)
        assert StockMovement.objects.filter(product_id=product_id).count() == number
        total = StockMovement.objects.filter(product_id=product_id).aggregate(total=Sum("delta"))["total"]
        assert total == StockLevel.objects.get(product_id=product_id).quantity
    assert state(product_id)[0] == 8
    quantities_after = [row[1] for row in state(product_id)[2]]
    assert quantities_after == [3, 10, 4, 0, 9, 8]


@pytest.mark.parametrize(
    ("command", "event_type"),
    [
        (lambda product_id: commands.AdjustStock(product_id=product_id, delta=-2, reason="sale"), "StockAdjusted"),
        (lambda product_id: commands.SetStock(product_id=product_id, quantity=7), "StockSet"),
    ],
)
def test_the_statement_writes_the_event_payload_in_the_shape_the_event_log_renders(make_product, command, event_type):
    product_id = make_product(initial_stock=5)
    answer = bus.dispatch(command(product_id))
    record = EventRecord.objects.latest("id")
    event = events.by_name(record.type)(
        **{field.name: record.payload[field.name] for field in dataclasses.fields(events.by_name(event_type))}
    )
    # The state, as event_log renders it in Python for the other events.
    state = payload_of(events.ProductCreated(product_id=product_id))
    assert record.type == event_type
    assert record.payload == {
        **dataclasses.asdict(event),
        "product": state["product"],
        "movement": state["movements"][-1],
    }
    assert (record.payload["quantity"], answer["quantity"], answer["version"]) == (answer["quantity"],) * 2 + (2,)
