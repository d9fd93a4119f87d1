"""Liveness and readiness probes for orchestrators and load balancers."""

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

_migrated = set()  # aliases whose migrations are all applied; that stays so for this process


def live(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


def _migrations_applied(connection):
    if connection.alias not in _migrated:
        executor = MigrationExecutor(connection)
        if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
            _migrated.add(connection.alias)
    return connection.alias in _migrated


def ready(request):
    """Answer 200 when the databases answer and every migration is applied, else 503.

    In split mode the body also tells the projector's lag (events and seconds behind).
    """
    body = {"status": "ok", "mode": settings.CQRS_MODE}
    try:
        for alias in settings.DATABASES:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            if alias not in settings.READ_REPLICA_ALIASES and not _migrations_applied(connections[alias]):
                return JsonResponse({**body, "status": "unavailable", "migrations": "pending"}, status=503)
        if settings.CQRS_MODE == "split":
            from products.read.worker import lag

            body["projection"] = lag()
    except Exception as error:  # any failure to reach a database means "not ready"
        return JsonResponse({**body, "status": "unavailable", "database": type(error).__name__}, status=503)
    return JsonResponse({**body, "database": "ok", "migrations": "applied"})
