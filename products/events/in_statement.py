"""Projections that run inside a command's own statement: registered by the read side, asked for by the write side.

In single-database mode the stock and checkout commands write their read rows in the same
SQL statement that changes the write tables (one round trip, atomic). What those steps are is
the read side's knowledge (``products.read.projections.IN_STATEMENT``: each event's projection,
fed from the statement's own rows); ``products.apps`` registers them here at start-up, as it
subscribes the projector's event handlers on the bus, so the write side names an event type
and the steps of its statement that hold the read rows, and never imports the read side's projections.
"""

_STEPS = {}


def register(table):
    """Register ``{event type: build(**rows) -> CTE steps}``, the read side's in-statement projections."""
    _STEPS.update(table)


def steps(event_type, **rows):
    """Return the CTE steps that project ``event_type`` from the statement's own ``rows`` (names of its steps)."""
    try:
        build = _STEPS[event_type]
    except KeyError:
        raise LookupError(
            f"No in-statement projection is registered for {event_type.__name__}: "
            "products.apps registers products.read.projections.IN_STATEMENT when the app starts."
        ) from None
    return build(**rows)
