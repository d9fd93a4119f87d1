"""The projections a command's own statement includes: the read side's, registered at start-up."""

import inspect

import pytest

from products import events
from products.events import in_statement
from products.read import projector


def test_the_app_registers_every_in_statement_projection_of_the_read_side():
    rows = {"state": "s", "ledger": "l", "level": "v", "reservation": "r", "holds": "h"}
    for event_type, build in projector.IN_STATEMENT.items():
        wanted = {name: rows[name] for name in inspect.signature(build).parameters}
        assert in_statement.steps(event_type, **wanted) == build(**wanted)


def test_an_event_projected_in_the_transaction_instead_has_no_steps():
    # Projected by the bus's handlers, not inside a statement: asking names the event.
    assert projector.EVENT_HANDLERS[events.ReservationReleased]
    with pytest.raises(LookupError, match="ReservationReleased"):
        in_statement.steps(events.ReservationReleased)


def test_an_event_a_statement_projects_has_no_handler_on_the_bus():
    # Projected twice would be once too many: a statement's events get () in the event table.
    for event_type in projector.IN_STATEMENT:
        assert projector.EVENT_HANDLERS[event_type] == (), event_type.__name__
