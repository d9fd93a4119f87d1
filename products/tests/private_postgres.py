"""PostgreSQL servers of a test's own, to stop and start: an outage that disturbs nobody else.

The robustness tests' conftest provides the fixtures; other test modules import them.
``stop`` is a crash (immediate mode), ``server.ensure_postgres_running()``
starts the same data directory again, on the same socket.
"""

import contextlib
import subprocess
import warnings

import psycopg2
import pytest


def start_server(path):
    """Start (or reuse) a server with its data in ``path``; stop it with ``server.cleanup()``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is unset in root shells
        import pgserver

    return pgserver.get_server(path, cleanup_mode="stop")


def _pg_ctl(server, *args):
    from pgserver import pg_ctl

    pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=60)


def stop(server):
    """Stop ``server`` in immediate mode: connections die as in a crash, with no goodbye to the clients."""
    _pg_ctl(server, "stop", "-m", "immediate")


def restart(server, mode="fast"):
    _pg_ctl(server, "restart", "-m", mode)


def sql(url, statement, fetch=False):
    """Run ``statement`` on its own autocommit connection; return its rows with ``fetch``."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if fetch else None
    finally:
        connection.close()


@pytest.fixture
def private_postgres(tmp_path):
    """Start a PostgreSQL server of this test's own (wal_level as initdb leaves it: replica)."""
    server = start_server(tmp_path / "pg")
    yield server
    server.cleanup()
    # cleanup() stops only the postmaster it started: one a test restarted is another process.
    if (server.pgdata / "postmaster.pid").exists():
        with contextlib.suppress(subprocess.CalledProcessError):
            _pg_ctl(server, "stop", "-m", "immediate")


@pytest.fixture
def logical_postgres(private_postgres):
    """The test's own server, with wal_level=logical (as the embedded server has it)."""
    sql(private_postgres.get_uri("postgres"), "ALTER SYSTEM SET wal_level = logical")
    restart(private_postgres)
    return private_postgres
