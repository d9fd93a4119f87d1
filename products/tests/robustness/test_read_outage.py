"""Split mode with its read database down: the worker waits and goes on, reads answer 503.

Two servers of the test's own: the write database on one (``wal_level=logical``, for the
worker's slot), the read database on the other, which the test stops in immediate mode (a
crash) while events keep being written, then starts again.
"""

import json
import subprocess
import sys
import time

import pytest

from products.tests.private_postgres import CREATE_PRODUCTS, log_applied_sql, sql, start_server, stop
from products.tests.robustness.conftest import ROOT, server_environment

pytestmark = pytest.mark.slow


@pytest.fixture
def read_postgres(tmp_path):
    """A second server of the test's own, for the read database."""
    server = start_server(tmp_path / "pg-read")
    yield server
    server.cleanup()


def _manage(environment, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _wait_for(condition, what, worker, log_path, timeout=90):
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.poll() is None, f"the worker exited:\n{log_path.read_text()}"
        assert time.monotonic() < deadline, f"{what}, never:\n{log_path.read_text()}"
        time.sleep(0.1)


def test_the_read_database_down_the_worker_waits_and_catches_up_and_reads_answer_503(
    logical_postgres, read_postgres, start_gunicorn, tmp_path
):
    write_url, read_url = logical_postgres.get_uri("robust"), read_postgres.get_uri("robust_read")
    sql(logical_postgres.get_uri("postgres"), 'CREATE DATABASE "robust"')
    sql(read_postgres.get_uri("postgres"), 'CREATE DATABASE "robust_read"')
    environment = server_environment(write_url, READ_DATABASE_URL=read_url)
    _manage(environment, "migrate", "--noinput")
    _manage(environment, "migrate", "--noinput", "--database", "read")
    sql(read_url, log_applied_sql())
    _manage(environment, "shell", "-c", CREATE_PRODUCTS.format(count=10, prefix="A", name="Outage"))

    def movements():
        return sql(write_url, "SELECT id FROM products_stockmovement ORDER BY id", fetch=True)

    def applied():
        return sql(read_url, "SELECT id FROM movement_applied ORDER BY id", fetch=True)

    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "project_events", "--follow", "--batch-size", "20", "--poll-interval", "0.2"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: len(applied()) == len(movements()) == 20, "the first events applied", worker, log_path)
        web = start_gunicorn(write_url, workers=1, READ_DATABASE_URL=read_url)
        for _ in range(3):  # the worker's persistent connection to the read database is open
            assert web.request("GET", "/api/products/").status == 200
        assert web.request("GET", "/health/ready").status == 200

        stop(read_postgres)
        _manage(environment, "shell", "-c", CREATE_PRODUCTS.format(count=10, prefix="B", name="Outage"))  # writes go on

        for path in ("/api/products/", "/api/products/?search=Outage", "/api/categories/"):
            reply = web.request("GET", path, timeout=15)
            assert reply.status == 503, (path, reply.status, reply.body[:300])
            assert reply.json()["code"] == "database_unavailable"
            assert reply.headers["retry-after"] == "5"
        ready = web.request("GET", "/health/ready", timeout=15)
        assert ready.status == 503, ready.body
        assert ready.json()["status"] == "unavailable" and ready.json()["unreachable"] == ["read"], ready.body

        def failures():
            lines = (json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{"))
            return [line for line in lines if line.get("message") == "database unavailable"]

        # The backoff doubles from the poll interval: 0.2 + 0.4 + 0.8 s before the third try.
        _wait_for(lambda: len(failures()) >= 3, "three logged failures", worker, log_path)
        logged = failures()
        assert [line["failures"] for line in logged[:3]] == [1, 2, 3]
        assert [line["retry_in_seconds"] for line in logged[:3]] == [0.2, 0.4, 0.8]
        assert all(line["databases"] == ["read"] and line["level"] == "WARNING" for line in logged)

        read_postgres.ensure_postgres_running()  # the same data directory and socket
        _wait_for(
            lambda: len(applied()) == len(movements()) == 40, "the events of the outage applied", worker, log_path
        )
        assert applied() == movements()  # each once
        statuses = []
        for _ in range(20):  # bounded: the first request after the restart normally succeeds
            statuses.append(web.request("GET", "/api/products/?page_size=100", timeout=15).status)
            if statuses[-1] == 200:
                break
            time.sleep(0.5)
        assert statuses[-1] == 200, statuses
        assert web.request("GET", "/health/ready").status == 200
        assert web.process.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    _manage(environment, "verify_read_models")
