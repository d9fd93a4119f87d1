"""The feed's consumers across a PostgreSQL restart: the worker applies every event once, a relay publishes
every event at least once (at most its batch in flight twice); none skipped.

The server is the test's own (stopping it disturbs nobody else), with ``wal_level=logical``
set as for the embedded server; the write and the read database are two databases on it.
"""

import contextlib
import subprocess
import sys
import time

import pytest

from products.tests.private_postgres import CREATE_PRODUCTS, log_applied_sql
from products.tests.private_postgres import restart as _restart
from products.tests.private_postgres import sql as _sql
from products.tests.robustness.conftest import ROOT, server_environment

pytestmark = pytest.mark.slow


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
    _sql(server.get_uri("robust_read"), log_applied_sql(pause=0.01))
    _manage(server, "shell", "-c", CREATE_PRODUCTS.format(count=40, prefix="A", name="Restart"))

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
    _manage(server, "shell", "-c", CREATE_PRODUCTS.format(count=10, prefix="B", name="Restart"))
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
    relay = _manage(server, "publish_events", "--broker", "kafka", check=False)
    assert relay.returncode == 1
    assert "wal_level=replica" in relay.stderr and "Traceback" not in relay.stderr, relay.stderr
    script = (
        "from django.test import Client; r = Client(HTTP_HOST='localhost').get('/health/ready');"
        " print(r.status_code, r.json())"
    )
    ready = _manage(server, "shell", "-c", script).stdout.strip().splitlines()[-1]
    assert ready.startswith("503") and "wal_level=logical" in ready, ready


@pytest.fixture
def relay_queue(rabbitmq_queue):
    """A relay's broker settings for an exchange of this test's own, how many messages wait, and their bodies."""

    def drain():
        return [body for _, _, body in rabbitmq_queue.drain()]

    broker = {"RABBITMQ_URL": rabbitmq_queue.url, "RABBITMQ_EXCHANGE": rabbitmq_queue.exchange}
    return broker, rabbitmq_queue.waiting, drain


def test_a_postgresql_restart_under_a_following_relay_loses_nothing_and_repeats_at_most_its_batch(
    logical_postgres, relay_queue
):
    server = logical_postgres
    broker, waiting, drain = relay_queue
    _split_databases(server)
    _manage(server, "shell", "-c", CREATE_PRODUCTS.format(count=150, prefix="A", name="Restart"))
    environment = {**_environment(server), **broker}
    command = [sys.executable, "manage.py", "publish_events", "--follow", "--batch-size", "2"]
    relay = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not waiting():
            assert time.monotonic() < deadline and relay.poll() is None, relay.stdout.read()
            time.sleep(0.02)
        _restart(server, mode="immediate")  # as a crash: the relay's batch in flight is cut off
        with contextlib.suppress(subprocess.TimeoutExpired):
            relay.wait(timeout=10)  # it stops on the lost connection; if not, a kill ends it as well
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
    published_before = waiting()
    _manage(server, "shell", "-c", CREATE_PRODUCTS.format(count=10, prefix="B", name="Restart"))
    finished = subprocess.run(
        [sys.executable, "manage.py", "publish_events", "--batch-size", "2"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr

    events = [row[0] for row in _sql(server.get_uri("robust"), "SELECT id FROM products_event ORDER BY id", True)]
    bodies = drain()
    ids = [body["event_id"] for body in bodies]
    assert 0 < published_before < len(events), "the restart should land mid-stream"
    assert set(ids) == set(events)  # none lost
    assert len(ids) - len(set(ids)) <= 2  # at most the batch confirmed but not yet recorded, again
    first_arrivals = {}  # what a consumer dropping duplicates by event id sees, in its order
    for body in bodies:
        first_arrivals.setdefault(body["event_id"], body)
    by_product = {}
    for body in first_arrivals.values():
        by_product.setdefault(body["product_id"], []).append(body["event_id"])
    assert all(seen == sorted(seen) for seen in by_product.values())  # in order per key
