"""Drop persistent database connections that the server has closed, without a round trip.

Django's CONN_HEALTH_CHECKS would send ``SELECT 1`` before the first query of every request:
a second round trip on each read. Here a request starts with a look at each open connection's
socket instead (one non-blocking ``select``): an idle connection has nothing to read unless
the server has closed it (a restart, an admin's terminate) or sent a notice, and either way it
is closed, so the request's first query opens a fresh one. Django itself still checks a
connection with a query after a request on it failed (``close_if_unusable_or_obsolete``).
"""

import select

from django.db import connections


def close_dead_connections(**kwargs):
    """Close each idle persistent connection whose socket has something to read (end of file)."""
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is None or connection.in_atomic_block:
            continue
        try:
            readable, _, _ = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError, connection.Database.Error):
            readable = True  # no socket any more
        if readable:
            connection.close()
