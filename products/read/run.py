"""Run a query's statement through Django's connections: the Django API's side of ``products.read.statement``."""

from django.db import DEFAULT_DB_ALIAS

from cqrs_demo.routers import read_query_alias
from products.read.statement import READ_STORE
from products.sql import fetch_dicts


def run(statement):
    """Return the answer of ``statement``, run on the read store (or a replica) or on the write database."""
    alias = read_query_alias() if statement.store == READ_STORE else DEFAULT_DB_ALIAS
    return statement.shape(fetch_dicts(statement.sql, statement.params, alias))
