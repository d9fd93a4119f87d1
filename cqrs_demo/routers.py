"""Database routing for the two deployment modes.

Single-database mode (the default): everything lives in ``default``; with
``READ_REPLICA_URLS`` set, queries of the read tables go to a replica and everything
else (writes, and the responses to writes, built from the write side) to the primary.

Split mode (``READ_DATABASE_URL`` set): the read tables live in the ``read`` database,
fed by the projector worker from the event log; the write tables stay in ``default``.
"""

import random

from django.apps import apps
from django.conf import settings

# A read model is known by its table, as the read side declares it: every read table is named
# read_* (products.read.tables, products.read.models), so a new one needs no entry here.
READ_TABLE_PREFIX = "read_"


def is_read_model(model):
    """Tell whether ``model`` (a class, or a migration's historical model) is one of the read store's tables."""
    return model._meta.app_label == "products" and model._meta.db_table.startswith(READ_TABLE_PREFIX)


def _is_read_model_named(app_label, model_name, hints):
    """Tell whether the model a migration names is a read model (unknown or unnamed: it is not)."""
    if app_label != "products":
        return False
    model = hints.get("model")
    if model is None and model_name is not None:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return False
    return model is not None and is_read_model(model)


def read_store_alias():
    """Return the alias of the database that holds the read tables."""
    return "read" if "read" in settings.DATABASES else "default"


def read_query_alias():
    """Return the alias that serves read-side queries: a replica when there are some."""
    replicas = settings.READ_REPLICA_ALIASES
    return random.choice(replicas) if replicas else read_store_alias()


class ReadModelRouter:
    """Send read models to the read store (or a replica for reads) and the rest to default."""

    def db_for_read(self, model, **hints):
        return read_query_alias() if is_read_model(model) else "default"

    def db_for_write(self, model, **hints):
        return read_store_alias() if is_read_model(model) else "default"

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db in settings.READ_REPLICA_ALIASES:
            return False  # replicas copy the primary; they are never migrated
        if db == "read":
            return _is_read_model_named(app_label, model_name, hints)
        if read_store_alias() == "read" and _is_read_model_named(app_label, model_name, hints):
            return False
        return None
