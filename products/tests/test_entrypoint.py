"""The container entrypoint, run from the checkout as `scripts/serve` runs it: wait, migrate, serve."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from products.tests.support import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
GRACEFUL_TIMEOUT = 5


def _environment(database_url, **extra):
    """Return a clean production-like environment, not the test settings' (DEBUG off)."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "entrypoint-test-" + "s3cr3t-k3y-" * 5,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _get(url):
    """Return the status of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def empty_database(django_db_blocker):
    """Create an empty database beside the test database, so the entrypoint has to migrate it."""
    name = f"{connection.settings_dict['NAME']}_entrypoint"
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
# transaction=True: CREATE DATABASE cannot run inside the transaction a plain db test opens.
@pytest.mark.django_db(transaction=True)
def test_entrypoint_migrates_serves_and_stops_on_sigterm(empty_database, tmp_path):
    port = free_port()
    env = _environment(
        database_url(connection.settings_dict, empty_database),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        GUNICORN_GRACEFUL_TIMEOUT=str(GRACEFUL_TIMEOUT),
    )
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        # From another directory, as a deployment would call it: the script finds the checkout.
        server = subprocess.Popen(
            [str(ENTRYPOINT)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"entrypoint exited early:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"/health/live never answered:\n{log_path.read_text()}"
            try:
                if _get(f"{base}/health/live") == 200:
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.3)

        assert _get(f"{base}/health/ready") == 200, log_path.read_text()
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=GRACEFUL_TIMEOUT + 10) == 0, log_path.read_text()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_wait_for_db_gives_up_on_an_unreachable_database():
    closed_port = free_port()  # nothing listens there once the probe socket is closed
    env = _environment(f"postgres://nobody@127.0.0.1:{closed_port}/nothing")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", "--timeout", "1", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Database unreachable after 1s" in result.stderr
    assert time.monotonic() - started < 30
