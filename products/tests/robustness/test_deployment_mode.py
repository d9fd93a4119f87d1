"""A process started in the other mode than its deployment's refuses: gunicorn is never ready,
and the container entrypoint stops before it execs gunicorn, both naming READ_DATABASE_URL."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from products.tests.robustness.conftest import server_environment
from products.tests.support import database_url
from products.write.models import Deployment

ROOT = Path(__file__).resolve().parents[3]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def read_database(django_db_blocker):
    """Create an empty database beside the test database, to be a split deployment's read database."""
    name = f"{connection.settings_dict['NAME']}_mode_read"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _write_url():
    return database_url(connection.settings_dict)


def _read_url(name):
    return database_url(connection.settings_dict, name)


def _run(command, timeout=120, **env):
    """Run ``command`` in the checkout with a production-like environment; return the finished process."""
    return subprocess.run(
        command, cwd=ROOT, env=server_environment(_write_url(), **env), capture_output=True, text=True, timeout=timeout
    )


def _entrypoint(**env):
    """Run the container entrypoint without migrating, as a replica does; it refuses before gunicorn or serves."""
    # Were gunicorn started, it would serve until the timeout, and the test fail with it.
    return _run(["/bin/sh", str(ENTRYPOINT)], timeout=90, SKIP_MIGRATE="true", WEB_CONCURRENCY="1", **env)


def _not_ready(server):
    reply = server.request("GET", "/health/ready", timeout=15)
    assert reply.status == 503, (reply.status, reply.body)
    body = reply.json()
    assert (body["deployment"], body["setting"]) == ("mismatch", "READ_DATABASE_URL"), body
    return body["detail"]


def test_single_database_mode_refuses_a_split_deployment(read_database, start_gunicorn):
    switched = _run(
        [sys.executable, "manage.py", "deployment_mode", "--set", "split"], READ_DATABASE_URL=_read_url(read_database)
    )
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert f"feeding the read database {read_database} on" in switched.stdout

    server = start_gunicorn(_write_url(), workers=1)  # no READ_DATABASE_URL: single-database mode
    detail = _not_ready(server)
    assert f"feeds the read database {read_database} on" in detail
    assert "set READ_DATABASE_URL to that database" in detail
    server.stop()

    refused = _entrypoint(PORT=str(server.port))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "set READ_DATABASE_URL to that database" in refused.stderr
    assert "Listening at" not in refused.stderr  # gunicorn never started
    # The split process the deployment expects passes the same check.
    agreed = _run(
        [sys.executable, "manage.py", "deployment_mode", "--check"], READ_DATABASE_URL=_read_url(read_database)
    )
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert Deployment.objects.get().mode == "split"


def test_split_mode_refuses_a_single_database_deployment(read_database, start_gunicorn):
    Deployment.objects.update_or_create(id=1, defaults={"mode": "single", "read_store": "", "read_store_label": ""})

    server = start_gunicorn(_write_url(), workers=1, READ_DATABASE_URL=_read_url(read_database))
    detail = _not_ready(server)
    assert "serves single-database mode" in detail
    assert "unset READ_DATABASE_URL" in detail
    server.stop()

    refused = _entrypoint(PORT=str(server.port), READ_DATABASE_URL=_read_url(read_database))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "unset READ_DATABASE_URL" in refused.stderr
    assert "Listening at" not in refused.stderr
    assert Deployment.objects.get().mode == "single"  # refusing changes nothing


def test_a_fresh_deployment_records_the_mode_of_its_first_process(start_gunicorn):
    Deployment.objects.all().delete()

    server = start_gunicorn(_write_url(), workers=1)

    assert server.request("GET", "/health/ready", timeout=15).status == 200
    assert Deployment.objects.get().mode == "single"
