"""The read API when its database cannot serve: 503 with Retry-After, within the pool's timeout, never a hang."""

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import httpx
import psycopg2
import pytest

from products.readapi.app import create_app
from products.readapi.config import Config
from products.tests.private_postgres import private_postgres  # noqa: F401 (fixture)
from products.tests.private_postgres import stop as _stop
from products.tests.readapi.conftest import ReadApi, database_config
from products.tests.robustness.conftest import ROOT, server_environment
from products.tests.robustness.test_faults import _seeded_database

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = {"detail": "The database is unavailable; try again shortly.", "code": "database_unavailable"}


def test_an_exhausted_pool_answers_503_with_retry_after_instead_of_waiting(client, read_api):
    # The pool's one connection is held by a request stuck behind a lock; the next finds none free.
    config = database_config(pool_max=1, pool_timeout=0.5)
    holder = psycopg2.connect(config.read_url)
    holder.cursor().execute("BEGIN; LOCK TABLE read_category IN ACCESS EXCLUSIVE MODE")

    async def scenario():
        application = create_app(config)
        databases = application.fastapi.state.databases
        await databases.open()
        try:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                stuck = asyncio.create_task(http.get("/api/categories/"))
                await asyncio.sleep(0.3)  # it holds the connection, waiting for the lock
                # Bounded: a request that waited for the connection indefinitely fails the test here.
                refused = await asyncio.wait_for(http.get("/api/locations/"), timeout=10)
                holder.rollback()
                return await asyncio.wait_for(stuck, timeout=10), refused
        finally:
            await databases.close()

    try:
        stuck, refused = asyncio.run(scenario())
    finally:
        holder.close()
    assert refused.status_code == 503
    assert refused.json() == UNAVAILABLE
    assert refused.headers["retry-after"] == "5"
    assert stuck.status_code == 200  # the held request finished once the lock went


def test_an_unreachable_database_answers_503_with_retry_after(read_api):
    nowhere = "postgresql://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    unreachable = Config(read_url=nowhere, write_url=nowhere, pool_timeout=1)

    async def scenario():
        application = create_app(unreachable)
        await application.fastapi.state.databases.open()  # starts although nothing answers
        try:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                return [
                    await asyncio.wait_for(http.get(path), timeout=10)
                    for path in ("/api/products/", "/api/categories/garden/")
                ]
        finally:
            await application.fastapi.state.databases.close()

    for reply in asyncio.run(scenario()):
        assert reply.status_code == 503
        assert reply.json() == UNAVAILABLE
        assert reply.headers["retry-after"] == "5"


def _get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.mark.slow
def test_scripts_serve_read_answers_503_while_postgresql_is_stopped_and_recovers_without_a_restart(private_postgres):  # noqa: F811
    database_url, _token, product_path = _seeded_database(private_postgres)
    port = 9400 + os.getpid() % 500
    server = subprocess.Popen(
        ["scripts/serve-read"],
        cwd=ROOT,
        env=server_environment(database_url, PORT=port, WEB_CONCURRENCY=2, READ_API_POOL_TIMEOUT=2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                if _get(port, product_path)[0] == 200:
                    break
            except OSError:
                time.sleep(0.25)
        for _ in range(6):  # both workers hold a pooled connection when the database dies
            status, headers, body = _get(port, product_path)
            assert status == 200 and headers["etag"] == '"1"'
        _stop(private_postgres)
        for path in (product_path, "/api/products/", f"{product_path}stock/", "/api/categories/"):
            status, headers, body = _get(port, path)
            assert (status, body) == (503, UNAVAILABLE), path
            assert headers["retry-after"] == "5"
        private_postgres.ensure_postgres_running()
        statuses = [_get(port, product_path)[0] for _ in range(8)]
        assert statuses == [200] * 8  # dead connections are replaced as they are found: no 503 after the restart
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_single_mode_readiness_says_its_mode(read_api, settings):
    if settings.CQRS_MODE == "split":
        pytest.skip("single-database mode: split mode's readiness is tested with the worker (read/test_worker.py)")
    assert read_api().get("/health/ready").json() == {"status": "ok", "mode": "single"}


def test_the_probes_say_whether_the_database_answers(read_api):
    nowhere = "postgresql://postgres@127.0.0.1:1/none"
    for api, expected in (
        (read_api(), 200),
        (ReadApi(Config(read_url=nowhere, write_url=nowhere, pool_timeout=1)), 503),
    ):
        live, ready = api.get_all(["/health/live", "/health/ready"])
        assert live.status_code == 200
        assert ready.status_code == expected, ready.text
