"""Faults: the database goes away and comes back under a running gunicorn, and a worker is
killed in the middle of a command."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psutil
import pytest
from django.db import connection
from django.db.models import Sum

from cqrs_demo.bus import bus
from products.read import rebuild
from products.tests.private_postgres import stop as _stop
from products.tests.robustness.conftest import ROOT, server_environment
from products.write import commands
from products.write.models import StockLevel, StockMovement

pytestmark = pytest.mark.slow

# Run in the private database's server: a superuser with a token, and one product with 10 in stock.
SEED = """
import json
from decimal import Decimal
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from cqrs_demo.bus import bus
from products.write import commands
user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
product = bus.dispatch(commands.CreateProduct(sku="OUT-1", name="Outage", price=Decimal("1.00"), initial_stock=10))
print(json.dumps({"token": Token.objects.create(user=user).key, "product": product["id"]}))
"""


def _manage(database_url, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=server_environment(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _seeded_database(server):
    """Create, migrate and seed the database ``robust``; return its URL, the token and the product's path."""
    import psycopg2

    admin = psycopg2.connect(server.get_uri("postgres"))
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE "robust"')
    admin.close()
    database_url = server.get_uri("robust")
    _manage(database_url, "migrate", "--noinput")
    seeded = json.loads(_manage(database_url, "shell", "-c", SEED).strip().splitlines()[-1])
    return database_url, seeded["token"], f"/api/products/{seeded['product']}/"


def test_database_outage_answers_503_and_the_service_recovers_without_a_restart(private_postgres, start_gunicorn):
    database_url, token, product_path = _seeded_database(private_postgres)
    server = start_gunicorn(database_url, workers=2)

    # Several requests, so that every worker holds a persistent connection when the database dies.
    for _ in range(6):
        assert server.request("GET", product_path).status == 200
    assert server.request("GET", "/health/ready").status == 200
    workers = server.worker_pids()

    _stop(private_postgres)

    for method, path, body in [
        ("GET", product_path, None),
        ("GET", "/api/products/", None),
        ("POST", f"{product_path}stock/", {"delta": -1}),
        ("PATCH", product_path, {"name": "During the outage"}),
        ("GET", product_path, None),
        ("GET", "/api/categories/", None),
    ]:
        # The socket timeout bounds each answer: a worker stuck on the database fails the test.
        reply = server.request(method, path, body, token=token if body else None, timeout=15)
        assert reply.status == 503, (method, path, reply.status, reply.body[:300])
        assert reply.headers["content-type"].startswith("application/json")
        assert reply.json()["detail"]
        assert "retry-after" in reply.headers
    ready = server.request("GET", "/health/ready", timeout=15)
    assert ready.status == 503 and ready.json()["status"] == "unavailable"
    assert server.request("GET", "/health/live", timeout=15).status == 200

    private_postgres.ensure_postgres_running()  # the same data directory, socket and options
    assert private_postgres.get_uri("robust") == database_url

    statuses = []
    for _ in range(20):  # bounded: the first request after the restart normally succeeds
        statuses.append(server.request("GET", product_path, timeout=15).status)
        if statuses[-1] == 200:
            break
        time.sleep(0.5)
    assert statuses[-1] == 200, statuses
    for _ in range(6):
        assert server.request("GET", product_path, timeout=15).status == 200
    changed = server.request("POST", f"{product_path}stock/", {"delta": -1}, token=token)
    assert changed.status == 200, changed.body
    assert changed.json()["quantity"] == 9  # the refused writes during the outage did nothing
    assert server.request("GET", "/health/ready").status == 200
    # Recovered in place: the same master and the same workers.
    assert server.process.poll() is None
    assert server.worker_pids() == workers
    _manage(database_url, "verify_read_models")


def test_keyed_requests_cut_by_a_database_restart_leave_no_claim(private_postgres, start_gunicorn):
    import psycopg2

    database_url, token, product_path = _seeded_database(private_postgres)
    session = psycopg2.connect(database_url)
    session.autocommit = True
    session.cursor().execute(SLOW_LEDGER_SQL)  # so that the workers are inside commands when it stops
    server = start_gunicorn(database_url, workers=3)
    keys = [f"restart-{number}" for number in range(9)]

    def send(key):
        headers = {"Idempotency-Key": key}
        return server.request("POST", f"{product_path}stock/", {"delta": -1}, token=token, headers=headers)

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        replies = pool.map(send, keys)
        asleep = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
        _wait_for(lambda: _fetch_one(session, asleep) > 0, 20, "no command reached the ledger insert")
        session.close()
        _stop(private_postgres)
        first = [reply.status for reply in replies]
    private_postgres.ensure_postgres_running()

    retried = []
    for key in keys:
        for _ in range(20):  # bounded: the first retry after the restart normally succeeds
            reply = send(key)
            if reply.status != 503:
                break
            time.sleep(0.5)
        retried.append(reply.status)
    assert set(first) <= {200, 503} and 503 in first, first
    # Every key's command ran exactly once: no claim outlived its 503 (no 409 in flight).
    assert retried == [200] * len(keys), (first, retried)
    quantity = _manage(database_url, "shell", "-c", QUANTITY.format(path=product_path)).strip().splitlines()[-1]
    assert int(quantity) == 10 - len(keys)


QUANTITY = """
from products.write.models import StockLevel
print(StockLevel.objects.get(product_id="{path}".split("/")[-2]).quantity)
"""


def _fetch_one(session, sql):
    with session.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


SLOW_LEDGER_SQL = """
CREATE FUNCTION robustness_slow_insert() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$;
CREATE TRIGGER robustness_slow_insert BEFORE INSERT ON products_stockmovement
FOR EACH ROW EXECUTE FUNCTION robustness_slow_insert();
"""


def _sleeping_backend():
    """Return the pid of a backend of this database asleep in the trigger, or None."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def _wait_for(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, message
        time.sleep(0.05)
    return value


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("body", "committed"),
    [
        # SetStock runs two statements in a transaction: killed before COMMIT, it rolls back.
        ({"quantity": 4}, False),
        # AdjustStock is one statement in autocommit: once sent, it commits whole.
        ({"delta": -3}, True),
    ],
)
def test_worker_killed_mid_command_leaves_no_partial_write(live_gunicorn, admin_token, snapshot, body, committed):
    product_id = bus.dispatch(
        commands.CreateProduct(sku="KILL-1", name="Killed", price=Decimal("1.00"), initial_stock=10)
    )["id"]
    path = f"/api/products/{product_id}/stock/"
    with connection.cursor() as cursor:
        cursor.execute(SLOW_LEDGER_SQL)
    try:
        before = snapshot()
        client = http.client.HTTPConnection("127.0.0.1", live_gunicorn.port, timeout=30)
        client.connect()
        client_port = client.sock.getsockname()[1]
        client.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Authorization": f"Token {admin_token}", "Content-Type": "application/json"},
        )
        # The version bump and the stock UPDATE have run; the ledger INSERT sleeps in the trigger.
        backend = _wait_for(_sleeping_backend, 20, "the command never reached the ledger insert")
        worker = next(
            pid
            for pid in live_gunicorn.worker_pids()
            if any(c.raddr and c.raddr.port == client_port for c in psutil.Process(pid).net_connections("tcp"))
        )
        os.kill(worker, signal.SIGKILL)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            client.getresponse()
        client.close()
        # The backend finishes its sleep, finds its client gone and rolls back.
        _wait_for(lambda: not _backend_alive(backend), 30, "the orphaned backend never ended")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS robustness_slow_insert ON products_stockmovement")
            cursor.execute("DROP FUNCTION IF EXISTS robustness_slow_insert()")

    # All or nothing: every table the command writes changed, or none did.
    after = snapshot()
    changed = {table for table in before if after[table] != before[table]}
    whole = {"products_product", "products_stocklevel", "products_stockmovement", "products_event"}
    read = {"read_product", "read_stock_level", "read_stock_movement"}
    assert changed == (whole | read if committed else set()), changed
    assert rebuild.differences() == []
    quantity = StockLevel.objects.get(product_id=product_id).quantity
    assert quantity == StockMovement.objects.filter(product_id=product_id).aggregate(total=Sum("delta"))["total"]
    assert quantity == (7 if committed else 10)
    # The master replaced the worker, and the next change goes through once.
    reply = live_gunicorn.request("POST", path, {"delta": -3}, token=admin_token)
    assert reply.status == 200, reply.body
    assert reply.json()["quantity"] == quantity - 3
