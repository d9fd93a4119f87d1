"""Readiness costs one query per database once migrations are known applied (the deployment's
mode on the write database, the read database's identity in split mode) plus the lag reports,
and still tells when they are not."""

import contextlib

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from products.http import health
from products.write import deployment, relay
from products.write.models import RelayPosition

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_process(monkeypatch):
    """Forget what this process learned about the databases' migrations, as a new worker would."""
    monkeypatch.setattr(health, "_migrated", set())


@contextlib.contextmanager
def _capture_queries():
    """Yield ``{alias: [sql, ...]}``, filled with each database's queries when the block ends."""
    queries = {}
    with contextlib.ExitStack() as stack:
        contexts = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in settings.DATABASES
        }
        yield queries
    queries.update({alias: [query["sql"] for query in context.captured_queries] for alias, context in contexts.items()})


def _ready_capturing_queries(client):
    with _capture_queries() as queries:
        response = client.get("/health/ready")
    return response, queries


def _lag_queries():
    """Return the queries, per database, of the split-mode feed check and lag report (none in single mode)."""
    if settings.CQRS_MODE != "split":
        return {alias: [] for alias in settings.DATABASES}
    from products.read import worker

    with _capture_queries() as queries:
        assert worker.feed_problem() is None
        worker.lag()
    return queries


def _relay_lag_queries():
    """Return the queries, per database, of the relays' lag report (in both modes)."""
    with _capture_queries() as queries:
        relay.lags()
    return queries


def test_a_ready_call_is_one_query_per_database_once_migrations_are_known_applied(anon_client, fresh_process):
    RelayPosition.objects.create(name="rabbitmq")  # a relay that ran: its lag is reported too
    assert anon_client.get("/health/ready").status_code == 200  # learns that migrations are applied
    lag_queries = _lag_queries()
    relay_queries = _relay_lag_queries()
    # The positions, their slots, then one per relay: its events behind.
    assert len(relay_queries["default"]) == 3, relay_queries["default"]
    mode_queries = {"default": [deployment._RECORDED_SQL], "read": [deployment._IDENTITY_SQL]}

    for _ in range(3):
        response, queries = _ready_capturing_queries(anon_client)
        assert response.status_code == 200, response.content
        assert response.json()["migrations"] == "applied"
        assert list(response.json()["relays"]) == ["rabbitmq"]
        for alias in settings.DATABASES:
            expected = [*mode_queries[alias], *lag_queries[alias], *relay_queries[alias]]
            assert queries[alias] == expected, (alias, queries[alias])


def test_without_a_relay_that_ran_the_relays_lag_is_one_query_and_empty(anon_client, fresh_process):
    assert anon_client.get("/health/ready").status_code == 200
    relay_queries = _relay_lag_queries()
    assert len(relay_queries["default"]) == 1, relay_queries["default"]  # the positions: none
    response, queries = _ready_capturing_queries(anon_client)
    assert response.json()["relays"] == {}
    assert queries["default"][-1] == relay_queries["default"][0]


def test_pending_migrations_answer_503_without_loading_migrations_per_call(anon_client, fresh_process, monkeypatch):
    with connections["default"].cursor() as cursor:
        # Inside the test's transaction: rolled back afterwards.
        cursor.execute("DELETE FROM django_migrations WHERE app = 'products'")

    def no_loader(*args, **kwargs):
        raise AssertionError("a migration loader was built for a probe")

    health.expected_migrations()  # read from disk once per process, at its first probe
    monkeypatch.setattr(health, "MigrationLoader", no_loader)
    for _ in range(2):
        response, queries = _ready_capturing_queries(anon_client)
        assert response.status_code == 503
        assert response.json()["migrations"] == "pending"
        assert len(queries["default"]) == 2, queries["default"]  # the table exists, applied names
    assert "default" not in health._migrated


def test_a_database_without_the_migrations_table_is_pending(anon_client, fresh_process):
    with connections["default"].cursor() as cursor:
        cursor.execute("ALTER TABLE django_migrations RENAME TO django_migrations_aside")

    response = anon_client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"
