"""An Idempotency-Key outlives no request answered with a 5xx, even when the database is
unreachable at the moment the request fails: the retry runs the command."""

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
from django.db import connection

from products.tests.support import database_url
from products.write.commands.common import product_lock
from products.write.models import StockLevel, StockMovement

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

KEY = {"Idempotency-Key": "outage-1"}


def _autocommit(name=None):
    session = psycopg2.connect(database_url(connection.settings_dict, name))
    session.autocommit = True
    return session


@contextlib.contextmanager
def _stopped_in_its_command(server, token, product_id):
    """Send a keyed stock change that stops inside its command (another session holds the
    product's lock); yield (the future reply, the pid of the request's session)."""
    blocker = psycopg2.connect(database_url(connection.settings_dict))
    try:
        blocker.cursor().execute("SELECT pg_advisory_xact_lock(%s)", [product_lock(product_id)])
        with ThreadPoolExecutor(max_workers=1) as pool:
            path = f"/api/products/{product_id}/stock/"
            reply = pool.submit(server.request, "POST", path, {"delta": -7}, token=token, headers=KEY)
            try:
                yield reply, _waiting_for(blocker)
            finally:
                blocker.rollback()
    finally:
        blocker.close()


def _waiting_for(blocker, timeout=20):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [blocker.get_backend_pid()]
            )
            row = cursor.fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    raise AssertionError("the request never reached its command")


def _retry(server, token, product_id):
    return server.request("POST", f"/api/products/{product_id}/stock/", {"delta": -7}, token=token, headers=KEY)


def test_a_keyed_request_answered_503_leaves_no_claim_and_its_retry_runs(live_gunicorn, admin_token, make_product):
    product_id = make_product(initial_stock=10)
    database = connection.settings_dict["NAME"]
    maintenance = _autocommit("postgres")  # a database's connections are switched off from another one
    try:
        with _stopped_in_its_command(live_gunicorn, admin_token, product_id) as (first, pid):
            # The outage: the request's session dies, and no new session can start while it fails.
            maintenance.cursor().execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
            maintenance.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
            reply = first.result(timeout=30)
    finally:
        maintenance.cursor().execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        maintenance.close()
    assert (reply.status, reply.json()["code"], reply.headers["retry-after"]) == (503, "database_unavailable", "5")
    assert StockLevel.objects.get(product_id=product_id).quantity == 10

    # The database is back: the retry runs the command (no 409 idempotency_key_in_flight) ...
    retry = _retry(live_gunicorn, admin_token, product_id)
    assert retry.status == 200, retry.body
    assert retry.json()["quantity"] == 3
    # ... and the next one replays it.
    again = _retry(live_gunicorn, admin_token, product_id)
    assert (again.status, again.headers.get("idempotent-replayed"), again.json()) == (200, "true", retry.json())
    assert StockLevel.objects.get(product_id=product_id).quantity == 3
    assert StockMovement.objects.filter(product_id=product_id).count() == 2


def test_a_retry_while_the_first_request_runs_gets_409(live_gunicorn, admin_token, make_product):
    product_id = make_product(initial_stock=10)
    with _stopped_in_its_command(live_gunicorn, admin_token, product_id) as (first, _pid):
        duplicate = _retry(live_gunicorn, admin_token, product_id)
    assert (duplicate.status, duplicate.json()["code"]) == (409, "idempotency_key_in_flight")
    assert first.result(timeout=30).status == 200
    assert StockLevel.objects.get(product_id=product_id).quantity == 3
