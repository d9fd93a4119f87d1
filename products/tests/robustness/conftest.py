"""Fixtures for the robustness tests: a real gunicorn serving the test database, HTTP helpers,
and a snapshot of every table, to prove that refused requests change nothing."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from products.tests.private_postgres import logical_postgres, private_postgres  # noqa: F401 (fixtures for these tests)
from products.tests.support import database_url, free_port

ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 60  # seconds; three workers importing Django on a busy 2-core machine

# Tables a command or a projector may write: the app's write tables and its read tables.
SNAPSHOT_TABLE_PREFIXES = ("products_", "read_")


def snapshot_tables():
    """Return every row of every write and read table, in a stable order."""
    snapshot = {}
    with connection.cursor() as cursor:
        tables = sorted(
            t for t in connection.introspection.table_names(cursor) if t.startswith(SNAPSHOT_TABLE_PREFIXES)
        )
        for table in tables:
            # Column 1 is each table's key; tsvector and other unusual types come back as text.
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            snapshot[table] = cursor.fetchall()
    assert {"products_product", "products_stocklevel", "products_stockmovement", "read_product"} <= set(snapshot)
    return snapshot


def server_environment(database_url, **extra):
    """Return a clean production-like environment (DEBUG off), not the test settings'; ``NAME=None`` unsets."""
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "robustness-test-" + "s3cr3t-k3y-" * 5,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "THROTTLE_ANON_RATE": "off",
        "THROTTLE_USER_RATE": "off",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "false",
        # Recycled workers would make worker pids change under the tests that look at them.
        "GUNICORN_MAX_REQUESTS": "0",
        "DB_CONNECT_TIMEOUT": "2",
        **{key: str(value) for key, value in extra.items()},
    }
    return {key: value for key, value in environment.items() if value != "None"}  # None: unset


@dataclass
class Reply:
    status: int
    headers: dict  # names in lower case
    body: bytes

    def json(self):
        return json.loads(self.body)


class LiveServer:
    """A gunicorn master process serving the app on a free local port."""

    def __init__(self, process, port, log_path):
        self.process = process
        self.port = port
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def request(self, method, path, body=None, *, token=None, headers=None, timeout=30):
        """Send one request on a fresh connection and return the reply, errors included."""
        all_headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        if token:
            all_headers["Authorization"] = f"Token {token}"
        all_headers.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=payload, headers=all_headers)
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def wait_until_live(self, timeout=STARTUP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"gunicorn exited early:\n{self.log()}"
            assert time.monotonic() < deadline, f"/health/live never answered:\n{self.log()}"
            try:
                if self.request("GET", "/health/live", timeout=5).status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.2)

    def worker_pids(self):
        return sorted(child.pid for child in psutil.Process(self.process.pid).children())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def start_gunicorn(tmp_path):
    """Return a function that starts gunicorn against a database URL; every server stops at teardown."""
    servers = []

    def start(database_url, *, workers=3, entrypoint=False, **env):
        """Start gunicorn; ``entrypoint``: with gunicorn.conf.py, as docker/entrypoint.sh execs it."""
        port = free_port()
        log_path = tmp_path / f"gunicorn-{port}.log"
        gunicorn = [sys.executable, "-m", "gunicorn", "cqrs_demo.wsgi:application"]
        if entrypoint:
            command = [*gunicorn, "-c", "gunicorn.conf.py"]
            env = {"PORT": port, "WEB_CONCURRENCY": workers, **env}
        else:
            command = [*gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--no-control-socket"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=server_environment(database_url, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LiveServer(process, port, log_path)
        servers.append(server)
        server.wait_until_live()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_gunicorn(transactional_db, start_gunicorn):
    """Serve the test database with three gunicorn workers (in split mode, with the read database
    too: the test applies the log before it reads); tests commit their data, so mark them
    ``django_db(transaction=True)``."""
    read = (
        {"READ_DATABASE_URL": database_url(connections["read"].settings_dict)} if "read" in connections.settings else {}
    )
    server = start_gunicorn(database_url(connection.settings_dict), **read)
    yield server
    server.stop()  # before the databases are flushed under it


@pytest.fixture
def snapshot():
    """Return a function that reads every write and read table in full (see ``snapshot_tables``)."""
    return snapshot_tables


@pytest.fixture
def admin_token(admin_user):
    return Token.objects.create(user=admin_user).key
