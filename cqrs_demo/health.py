"""Liveness and readiness probes for orchestrators and load balancers."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

_migrated = False  # once every migration is applied, it stays so for this process


def live(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


def _migrations_applied(connection):
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def ready(request):
    """Answer 200 when the database answers and every migration is applied, else 503."""
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_applied(connection):
            return JsonResponse({"status": "unavailable", "database": "ok", "migrations": "pending"}, status=503)
    except Exception as error:  # any failure to reach the database means "not ready"
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "migrations": "applied"})
