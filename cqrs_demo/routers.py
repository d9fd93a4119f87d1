"""Database routing for the two deployment modes.

Single-database mode (the default): everything lives in ``default``; with
``READ_REPLICA_URLS`` set, queries of the read tables go to a replica and everything
else (writes, and the responses to writes, built from the write side) to the primary.

Split mode (``READ_DATABASE_URL`` set): the read tables live in the ``read`` database,
fed by the projector worker from the event log; the write tables stay in ``default``.
"""

import random

from django.conf import settings

READ_MODEL_NAMES = {
    "productview",
    "productsearchview",
    "stocklevelview",
    "stockmovementview",
    "categoryview",
    "locationview",
    "reservationview",
    "stockholdview",
    "projectorposition",
}


def is_read_model(model):
    return model._meta.app_label == "products" and model._meta.model_name in READ_MODEL_NAMES


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
            return app_label == "products" and model_name in READ_MODEL_NAMES
        if read_store_alias() == "read" and app_label == "products" and model_name in READ_MODEL_NAMES:
            return False
        return None
