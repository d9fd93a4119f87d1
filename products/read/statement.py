"""A query as one SQL statement, free of any web framework or driver: what both read APIs run.

A query module builds a ``Statement`` from a query: the SQL, its parameters (``%s``, which
psycopg 2 and psycopg 3 both read), the store it reads and how its rows become the answer
(``shape``, which may raise a domain error such as a 404's). The Django API runs it through
Django's connections (``products.read.queries.run``); the ASGI read API (``products.readapi``)
through psycopg's async pool. Both hand ``jsonb`` over as text, so ``shape`` is the same for both.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

# The read tables: the read database in split mode, a replica when there are some, else default.
READ_STORE = "read"
# The event log (and the API tokens): always the default (write) database.
WRITE_STORE = "write"


@dataclass(frozen=True)
class Statement:
    sql: str
    params: list
    shape: Callable[[list[dict]], Any]  # the rows as dicts -> the answer
    store: str = READ_STORE

    def then(self, finish):
        """Return this statement with ``finish`` applied to the answer its ``shape`` makes."""
        shape = self.shape
        return replace(self, shape=lambda rows: finish(shape(rows)))


def one_row(not_found, message):
    """Return a ``shape`` that answers a statement's only row, or raises ``not_found(message)`` when there is none."""

    def shape(rows):
        if not rows:
            raise not_found(message)
        return rows[0]

    return shape
