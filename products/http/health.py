"""Liveness and readiness probes for orchestrators and load balancers.

A ready call costs one query per database once its migrations are known to be applied (in
split mode, plus the event feed's checks and the projector-lag queries; in both modes, plus
the relays' lag: one query without a relay, two and one per relay with some): on the write
database it reads the deployment's mode, on the read database it asks who that database is
(``products.write.deployment``), on a replica it is ``SELECT 1``. A process whose settings
disagree with the deployment's mode is not ready, and the body says which setting to change.
The migration files are read once per process, at its first probe; while a database still
lacks some migrations, each call compares them with its ``django_migrations`` table: two
small queries, no migration loader.
"""

import functools

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.http import JsonResponse

from products.write import deployment, relay

_migrated = set()  # aliases whose migrations are all applied; that stays so for this process


def live(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


@functools.cache
def expected_migrations():
    """Return the migrations on disk as ``{(app, name): names it replaces}``; read once per process."""
    # No connection: the graph from the files alone (a squashed migration stands for the ones it replaces).
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {key: tuple(graph.nodes[key].replaces or ()) for key in graph.nodes}


def _migrations_applied(connection):
    if connection.alias in _migrated:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    for key, replaces in expected_migrations().items():
        if key not in applied and not (replaces and set(replaces) <= applied):
            return False
    _migrated.add(connection.alias)
    return True


def _unreachable():
    """Return the aliases of the databases that do not answer ``SELECT 1`` (split mode's read database: ``read``)."""
    down = []
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            down.append(alias)
    return down


def ready(request):
    """Answer 200 when the databases answer, every migration is applied and this process's mode
    is the deployment's, else 503.

    In split mode the body also tells the projector's lag (events, seconds and bytes of WAL
    behind), and a server without ``wal_level=logical`` or without the worker's slot is not ready.
    In both modes it tells each relay's lag (events and bytes of WAL behind), as information
    only: a relay behind delays what the brokers' consumers see, not this process's answers.
    """
    body = {"status": "ok", "mode": settings.CQRS_MODE}
    try:
        if not _migrations_applied(connections["default"]):
            return JsonResponse({**body, "status": "unavailable", "migrations": "pending"}, status=503)
        # Before the read database's migrations: a process of the wrong mode is told so first.
        # Also proves the write (and read) database answer: one query each.
        deployment.check()
        for alias in settings.DATABASES:
            if alias in settings.READ_REPLICA_ALIASES:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT 1")
            elif not _migrations_applied(connections[alias]):
                return JsonResponse({**body, "status": "unavailable", "migrations": "pending"}, status=503)
        if settings.CQRS_MODE == "split":
            from products.read import worker

            if problem := worker.feed_problem():
                return JsonResponse(
                    {**body, "status": "unavailable", "feed": "unavailable", "detail": problem}, status=503
                )
            body["projection"] = worker.lag()
        body["relays"] = relay.lags()
    except deployment.ModeMismatch as mismatch:
        return JsonResponse(
            {
                **body,
                "status": "unavailable",
                "deployment": "mismatch",
                "setting": mismatch.setting,
                "detail": str(mismatch),
            },
            status=503,
        )
    except Exception as error:  # any failure to reach a database means "not ready"
        return JsonResponse(
            {**body, "status": "unavailable", "database": type(error).__name__, "unreachable": _unreachable()},
            status=503,
        )
    return JsonResponse({**body, "database": "ok", "migrations": "applied"})
