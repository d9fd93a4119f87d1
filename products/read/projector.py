"""Single-database mode: each event's projection (``products.read.projections``) in the command's transaction.

``EVENT_HANDLERS`` is the bus's event table. A command that appends an event from Python
(``products.write.event_log.publish``) hands the bus the payload it just logged, and the
event's handler applies that payload to the read tables with the projection the split-mode
worker applies from the log: on the command's connection, in its transaction, so the read
side changes exactly when the write does, and a projection that fails rolls the command back.
The events a command's own statement appends are projected by that statement
(``products.read.projections.IN_STATEMENT``, the same steps): they get ``()`` here, as do the
events whose projection changes nothing.

In split mode the bus's table is empty (``SPLIT_MODE_EVENT_HANDLERS``): the worker in
``products.read.worker`` applies the same projections from the event log instead.
"""

from django.db import DEFAULT_DB_ALIAS, connections

from products.read.projections import IN_STATEMENT, PROJECTIONS, no_change


class _AtOnce:
    """Run each statement as it comes, on the command's cursor: the worker's ``Statements``, unqueued."""

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql, params=None):
        self._cursor.execute(sql, params)

    def fetchall(self, sql, params=None):
        self._cursor.execute(sql, params)
        return self._cursor.fetchall()

    def fetchone(self, sql, params=None):
        self._cursor.execute(sql, params)
        return self._cursor.fetchone()


def apply_payload(event, payload):
    """Apply ``event``'s projection to the payload the log just recorded, in the command's transaction."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        PROJECTIONS[type(event)](_AtOnce(cursor), [payload])


# The event table: which handlers each event triggers in the command's transaction.
EVENT_HANDLERS = {
    event_type: () if event_type in IN_STATEMENT or project is no_change else (apply_payload,)
    for event_type, project in PROJECTIONS.items()
}
SPLIT_MODE_EVENT_HANDLERS = {event_type: () for event_type in EVENT_HANDLERS}
