"""Run raw SQL and get rows back as dicts: the one helper both sides use for hand-written SQL."""

from uuid import UUID

import psycopg2
from django.db import DatabaseError, InterfaceError, OperationalError, connections


def array_literal(values):
    """Return ``values`` as one PostgreSQL array literal (``'{"a","b",NULL}'``), to cast in SQL (``%s::uuid[]``).

    The driver would send a list as ``ARRAY[...]``, an expression per element for the server
    to parse, coerce and fold: for a thousand elements that costs more than the statement's
    planning. One literal is parsed by the array type's input function in one pass.
    """
    return "{" + ",".join("NULL" if value is None else _element(value) for value in values) + "}"


def _element(value):
    if isinstance(value, int | UUID):  # nothing to quote
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def fetch_dicts(sql, params=(), using="default"):
    """Run ``sql`` on the database ``using`` and return its rows as dicts keyed by column name."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def connection_lost(error):
    """Tell whether ``error`` is a database that cannot be reached, not a statement that failed.

    psycopg2 raises a plain ``DatabaseError`` with no SQLSTATE ("server closed the connection
    unexpectedly") when a server dies under a statement; one the server reports has its code.
    """
    if isinstance(error, OperationalError | InterfaceError):
        return True
    cause = error.__cause__
    return isinstance(error, DatabaseError) and type(cause) is psycopg2.DatabaseError and cause.pgcode is None
