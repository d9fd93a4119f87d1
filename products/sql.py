"""Run raw SQL and get rows back as dicts: the one helper both sides use for hand-written SQL."""

from uuid import UUID

from django.db import connections


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
