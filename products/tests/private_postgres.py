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


# A `manage.py shell -c` script (format it with count, prefix, name): ``count`` products, each
# with an initial stock and one adjustment, so two ledger rows and three events each.
CREATE_PRODUCTS = """
from decimal import Decimal
from cqrs_demo.bus import bus
from products.write import commands
for n in range({count}):
    created = commands.CreateProduct(sku=f"{prefix}-{{n}}", name="{name}", price=Decimal(1), initial_stock=3)
    product = bus.dispatch(created)
    bus.dispatch(commands.AdjustStock(product_id=product["id"], delta=2))
"""


def log_applied_sql(pause=0.0):
    """Return SQL that logs every ledger row the worker applies, in its transaction (a repeat shows as a
    second row of ``movement_applied``); ``pause`` seconds per row widen a batch's window for a crash."""
    return f"""
    CREATE TABLE movement_applied (id bigint);
    CREATE FUNCTION log_applied() RETURNS trigger AS $$
      BEGIN INSERT INTO movement_applied VALUES (NEW.id); PERFORM pg_sleep({float(pause)}); RETURN NEW; END $$
      LANGUAGE plpgsql;
    CREATE TRIGGER log_applied BEFORE INSERT ON read_stock_movement FOR EACH ROW EXECUTE FUNCTION log_applied();
"""


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
