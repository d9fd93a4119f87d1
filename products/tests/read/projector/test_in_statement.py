"""The projections a command's own statement includes: each event's one projection, fed from the statement's rows."""

import inspect

import pytest

from products import events
from products.events import in_statement
from products.read import projections, projector
from products.read.tables import READ_TABLES


def test_the_app_registers_every_in_statement_projection_of_the_read_side():
    rows = {"products": "s", "movements": "l", "reservations": "r", "holds": "h"}
    for event_type, build in projections.IN_STATEMENT.items():
        wanted = {name: rows[name] for name in inspect.signature(build).parameters if name in rows}
        assert in_statement.steps(event_type, **wanted) == build(**wanted)


def test_an_event_projected_in_the_transaction_instead_has_no_steps():
    # Projected by the bus's handlers, not inside a statement: asking names the event.
    assert projector.EVENT_HANDLERS[events.ReservationReleased]
    with pytest.raises(LookupError, match="ReservationReleased"):
        in_statement.steps(events.ReservationReleased)


def test_an_event_a_statement_projects_has_no_handler_on_the_bus():
    # Projected twice would be once too many: a statement's events get () in the event table.
    for event_type in projections.IN_STATEMENT:
        assert projector.EVENT_HANDLERS[event_type] == (), event_type.__name__


class _Recorded:
    """A ``statements`` that keeps what a projection sends; every column read as text."""

    def __init__(self):
        self.sql = []

    def execute(self, sql, params=None):
        self.sql.append(sql)

    def fetchall(self, sql, params):
        [table] = [table for table in READ_TABLES if table.name == params[0]]
        return [(name, "text") for name in table.column_names]


_PRODUCT = {"id": "p", "version": 2}
_MOVEMENT = {"id": 1, "location": "main"}
_RESERVATION = {"reservation": {}, "status": "active", "version": 1, "updated_at": "t", "holds": []}


@pytest.mark.parametrize(
    ("event_type", "payload", "steps"),
    [
        (
            events.StockAdjusted,
            {"product_id": "p", "product": _PRODUCT, "movement": _MOVEMENT},
            projections.stock_steps(products="products_rows", movements="movements_rows"),
        ),
        (
            events.StockSet,
            {"product_id": "p", "product": _PRODUCT, "movement": _MOVEMENT},
            projections.stock_steps(products="products_rows", movements="movements_rows"),
        ),
        (
            events.ReservationPlaced,
            _RESERVATION,
            projections.reservation_steps(reservations="reservations_rows", holds="holds_rows"),
        ),
    ],
)
def test_the_payload_path_sends_the_steps_the_statements_include(monkeypatch, event_type, payload, steps):
    # The same steps, fed from the payloads' rows (JSON) instead of the statement's own.
    monkeypatch.setattr(projections, "_column_types", {})
    recorded = _Recorded()
    projections.PROJECTIONS[event_type](recorded, [payload])
    [sql] = recorded.sql
    assert steps in sql
