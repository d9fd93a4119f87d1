"""The event contract: each event type declared once, and every event checked against docs/asyncapi.yaml.

The suite checks every event it appends at the end of each database test (``conftest``);
these tests show that check refuses what breaks the contract, and tie the declarations to
the read tables and consumers that depend on the same shapes.
"""

import copy
import dataclasses
import typing

import pytest

from cqrs_demo.bus import bus
from products import events
from products.events import schema
from products.read import projections, projector
from products.read.tables import CATEGORIES, HOLDS, LOCATIONS, MOVEMENTS, PRODUCTS, RESERVATIONS
from products.tests import event_contract
from products.write import commands
from products.write.event_log import STATE, headers_of, message_of
from products.write.models import EventRecord


@pytest.fixture
def adjusted(make_product):
    """Return the message body and headers of a StockAdjusted, as the relay publishes them."""
    product_id = make_product(initial_stock=10)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-3))
    record = EventRecord.objects.filter(type="StockAdjusted").latest("id")
    return message_of(record), headers_of(record)


def test_a_stock_event_meets_its_message_schema(adjusted):
    body, headers = adjusted

    assert event_contract.errors("StockAdjusted", body, headers) == []
    assert headers == {"id": body["event_id"], "type": "StockAdjusted", "schema_version": body["schema_version"]}


def _broken(body, change):
    body = copy.deepcopy(body)
    change(body)
    return body


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda body: body["data"].pop("movement"), "'movement' is a required property"),
        (lambda body: body["data"]["product"].pop("reorder_point"), "'reorder_point' is a required property"),
        (lambda body: body["data"]["product"].update(in_stock=True), "Additional properties are not allowed"),
        (lambda body: body["data"].update(delta="-3"), "'-3' is not of type 'integer'"),
        (lambda body: body["data"]["movement"].update(created_at="2026-11-23T10:00:00Z"), "does not match"),
        (lambda body: body.update(schema_version=1), "2 was expected"),
        (lambda body: body.update(type="StockSet"), "'StockAdjusted' was expected"),
        (lambda body: body.update(product_id=None), "None is not of type 'string'"),
    ],
)
def test_a_malformed_message_body_is_refused(adjusted, change, expected):
    body, headers = adjusted

    found = event_contract.errors("StockAdjusted", _broken(body, change), headers)

    assert any(expected in error for error in found), found


def test_headers_that_disagree_with_the_body_are_refused(adjusted):
    body, headers = adjusted

    assert event_contract.errors("StockAdjusted", body, {**headers, "schema_version": 1})
    assert event_contract.errors("StockAdjusted", body, {"schema_version": body["schema_version"]})


def test_the_suite_check_fails_on_a_malformed_event_in_the_log(make_product):
    product_id = make_product()
    mark = event_contract.last_event_id()
    EventRecord.objects.create(type="ProductDetailsUpdated", product_id=product_id, payload={"product_id": "nope"})

    with pytest.raises(AssertionError, match=r"ProductDetailsUpdated.*'product' is a required property"):
        event_contract.check_events_after(mark)
    EventRecord.objects.filter(id__gt=mark).delete()  # so this test's own end-of-test check passes


def test_every_event_type_is_declared_with_a_version_and_a_docstring():
    for event_type in events.EVENT_TYPES:
        assert isinstance(event_type.schema_version, int), event_type
        # Its own docstring, not the signature dataclass writes when there is none.
        description = schema.description_of(event_type)
        assert description and not description.startswith(f"{event_type.__name__}("), event_type
        assert schema.payload_schema(event_type)["required"], event_type


def test_the_python_producer_renders_the_declared_state():
    # What the event log adds to an event's own fields is what the declaration says it carries
    # (STATE's functions are checked by the suite-wide check; here: which event types have one).
    carrying = {event_type for event_type in events.EVENT_TYPES if event_type.carries}
    appended_in_python = set(STATE)
    assert carrying - appended_in_python == {events.StockAdjusted, events.StockSet}  # written by their SQL


def test_consumers_know_every_declared_event_type():
    declared = set(events.EVENT_TYPES)
    assert set(projections.PROJECTIONS) == declared
    assert set(projector.EVENT_HANDLERS) == declared


def _api_fields(table):
    return [column.api for column in table.columns if column.api]


@pytest.mark.parametrize(
    ("shape", "fields"),
    [
        (schema.Product, _api_fields(PRODUCTS)),
        (schema.Movement, _api_fields(MOVEMENTS)),
        (schema.Category, _api_fields(CATEGORIES)),
        (schema.Location, _api_fields(LOCATIONS)),
        (schema.Reservation, _api_fields(RESERVATIONS)),
        (schema.Hold, list(HOLDS.column_names)),  # holds travel as read rows
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_each_shape_is_the_read_row_its_producers_render(shape, fields):
    # The SQL producers render these shapes from the read tables' definitions (api_json).
    assert list(typing.get_type_hints(shape)) == fields


def test_an_event_dataclass_is_the_declaration_of_its_own_fields():
    assert [field.name for field in dataclasses.fields(events.StockAdjusted)] == [
        "product_id",
        "movement_id",
        "delta",
        "quantity",
        "location",
    ]
    assert list(schema.payload_schema(events.StockAdjusted)["properties"]) == [
        "product_id",
        "movement_id",
        "delta",
        "quantity",
        "location",
        "product",
        "movement",
    ]


def test_a_field_annotation_becomes_its_description_and_an_unknown_type_is_refused():
    available = schema.payload_schema(events.StockLow)["properties"]["available"]
    assert available["type"] == "integer" and available["description"].startswith("Over its locations")
    with pytest.raises(TypeError, match="No JSON Schema for <class 'float'>"):
        schema.schema_of(float)  # a price is a Decimal: floats would round it
