"""The split-mode worker across a PostgreSQL restart: every event applied once, none skipped.

The server is the test's own (stopping it disturbs nobody else), with ``wal_level=logical``
set as for the embedded server; the write and the read database are two databases on it.
"""

import subprocess
import sys
import time

import pytest

from products.tests.private_postgres import restart as _restart
from products.tests.private_postgres import sql as _sql
from products.tests.robustness.conftest import ROOT, server_environment

pytestmark = pytest.mark.slow

CREATE = """
from decimal import Decimal
from cqrs_demo.bus import bus
from products.write import commands
for n in range({count}):
    created = commands.CreateProduct(sku=f"{prefix}-{{n}}", name="Restart", price=Decimal(1), initial_stock=3)
    product = bus.dispatch(created)
    bus.dispatch(commands.AdjustStock(product_id=product["id"], delta=2))
"""

# Every ledger row the worker applies, logged in its transaction (a repeat shows as a second row).
LOG_APPLIED = """
    CREATE TABLE movement_applied (id bigint);
    CREATE FUNCTION log_applied() RETURNS trigger AS $$
      BEGIN INSERT INTO movement_applied VALUES (NEW.id); PERFORM pg_sleep(0.01); RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER log_applied BEFORE INSERT ON read_stock_movement FOR EACH ROW EXECUTE FUNCTION log_applied();
"""


def _split_databases(server):
    _sql(server.get_uri("postgres"), 'CREATE DATABASE "robust"')
    _sql(server.get_uri("postgres"), 'CREATE DATABASE "robust_read"')
    _manage(server, "migrate", "--noinput")
    _manage(server, "migrate", "--noinput", "--database", "read")


def _environment(server):
    return server_environment(server.get_uri("robust"), READ_DATABASE_URL=server.get_uri("robust_read"))


def _manage(server, *args, check=True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_environment(server),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_postgresql_restart_under_the_worker_neither_skips_nor_repeats_an_event(logical_postgres):
    server = logical_postgres
    _split_databases(server)
    _sql(server.get_uri("robust_read"), LOG_APPLIED)
    _manage(server, "shell", "-c", CREATE.format(count=40, prefix="A"))

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "project_events", "--follow", "--batch-size", "20"],
        cwd=ROOT,
        env=_environment(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _sql(server.get_uri("robust_read"), "SELECT 1 FROM movement_applied LIMIT 1", fetch=True):
            assert time.monotonic() < deadline and worker.poll() is None, worker.stdout.read()
            time.sleep(0.05)
        _restart(server, mode="immediate")  # as a crash: the worker's batch in flight is cut off
        worker.kill()  # and the worker's own crash: it would wait for the server and go on (test_read_outage)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    applied_before = _sql(server.get_uri("robust_read"), "SELECT count(*) FROM movement_applied", fetch=True)[0][0]
    _manage(server, "shell", "-c", CREATE.format(count=10, prefix="B"))
    finished = _manage(server, "project_events")  # what committed so far, then it exits
    assert "Applied" in finished.stdout

    movements = _sql(server.get_uri("robust"), "SELECT id FROM products_stockmovement ORDER BY id", fetch=True)
    logged = _sql(server.get_uri("robust_read"), "SELECT id FROM movement_applied ORDER BY id", fetch=True)
    assert 0 < applied_before < len(movements)
    assert logged == movements  # each once
    _manage(server, "verify_read_models")


def test_a_server_without_logical_decoding_is_named_by_the_worker_and_by_readiness(private_postgres):
    server = private_postgres
    _split_databases(server)
    refused = _manage(server, "project_events", check=False)
    assert refused.returncode != 0
    assert "wal_level=replica" in refused.stderr and "wal_level = logical" in refused.stderr, refused.stderr
    script = (
        "from django.test import Client; r = Client(HTTP_HOST='localhost').get('/health/ready');"
        " print(r.status_code, r.json())"
    )
    ready = _manage(server, "shell", "-c", script).stdout.strip().splitlines()[-1]
    assert ready.startswith("503") and "wal_level=logical" in ready, ready
