"""One log line per request, from a gunicorn started as the container entrypoint starts it:
every line JSON, one timestamp format, and no credential anywhere."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from products.tests.support import database_url, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
STARTUP_TIMEOUT = 60


def _environment(**extra):
    """A production-like environment with the logging defaults (LOG_LEVEL and access log unset)."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "DATABASE_URL": database_url(connection.settings_dict),
        "SECRET_KEY": "request-log-test-" + "s3cr3t-k3y-" * 5,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEB_CONCURRENCY": "2",
        **extra,
    }


class Server:
    """gunicorn as docker/entrypoint.sh execs it, with every request the test sent."""

    def __init__(self, log_path, **env):
        self.port = free_port()
        self.log_path = log_path
        self.sent = Counter()  # (method, path, status) of every request that got an answer
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["gunicorn", "-c", "gunicorn.conf.py", "cqrs_demo.wsgi:application"],
                cwd=ROOT,
                env=_environment(PORT=str(self.port), **env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def request(self, method, path, *, token=None, body=None):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.sent[(method, path.split("?")[0], status)] += 1
        return status

    def wait_until_live(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert self.process.poll() is None, f"gunicorn exited early:\n{self.log_path.read_text()}"
            assert time.monotonic() < deadline, f"/health/live never answered:\n{self.log_path.read_text()}"
            try:
                if self.request("GET", "/health/live") == 200:
                    return
            except OSError:
                pass  # not listening yet: no answer, no log line
            time.sleep(0.2)

    def stop_and_read_log(self):
        """Stop gunicorn (its shutdown lines included) and return every line of its output, parsed."""
        self.stop()
        lines = self.log_path.read_text().splitlines()
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                pytest.fail(f"not a JSON line: {line!r}\n\n" + "\n".join(lines))
        return entries

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def token():
    user = User.objects.create_superuser("log-admin", "admin@example.com", "pw")
    return Token.objects.create(user=user).key


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(**env):
        server = Server(tmp_path / f"server-{len(servers)}.log", **env)
        servers.append(server)
        server.wait_until_live()
        return server

    yield start
    for server in servers:
        server.stop()


def _send_a_mix(server, token):
    assert server.request("GET", "/api/products/?page_size=5", token=token) == 200
    assert server.request("POST", "/api/categories/", token=token, body={"slug": "logs", "name": "Logs"}) == 201
    assert server.request("GET", "/api/categories/logs/", token=token) == 200
    assert server.request("GET", "/api/products/", token=token[::-1]) == 401  # a wrong token
    assert server.request("POST", "/api/categories/", body={"slug": "x", "name": "X"}) == 401
    assert server.request("GET", "/api/nothing-here/") == 404
    assert server.request("GET", "/health/ready") == 200


def _assert_one_format_and_no_secret(entries, token):
    assert entries
    for entry in entries:
        assert TIMESTAMP.fullmatch(entry["time"]), entry
        assert {"level", "logger", "message"} <= set(entry), entry
        text = json.dumps(entry)
        for secret in (token, token[::-1]):
            assert secret not in text, entry
        assert "authorization" not in text.lower(), entry


def test_each_request_is_logged_once_as_json_and_gunicorns_own_lines_match(start_server, token):
    server = start_server()
    _send_a_mix(server, token)

    entries = server.stop_and_read_log()

    _assert_one_format_and_no_secret(entries, token)
    requests = [entry for entry in entries if entry["message"] == "request" or "access" in entry["logger"]]
    assert {entry["logger"] for entry in requests} == {"cqrs_demo.request"}  # no gunicorn access line
    assert Counter((entry["method"], entry["path"], entry["status"]) for entry in requests) == server.sent
    users = {entry["path"]: entry["user"] for entry in requests if entry["status"] == 201}
    assert users == {"/api/categories/": "log-admin"}
    # gunicorn's own log (start, workers, shutdown) comes in the same format.
    gunicorn_messages = [entry["message"] for entry in entries if entry["logger"] == "gunicorn.error"]
    assert any(message.startswith("Listening at") for message in gunicorn_messages), gunicorn_messages
    assert any(message.startswith("Shutting down") for message in gunicorn_messages), gunicorn_messages


def test_an_enabled_gunicorn_access_log_uses_the_same_json_format(start_server, token):
    server = start_server(GUNICORN_ACCESS_LOG="true")
    _send_a_mix(server, token)

    entries = server.stop_and_read_log()

    _assert_one_format_and_no_secret(entries, token)
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    app = [entry for entry in entries if entry["logger"] == "cqrs_demo.request"]
    assert Counter((entry["method"], entry["path"], entry["status"]) for entry in access) == server.sent
    assert Counter((entry["method"], entry["path"], entry["status"]) for entry in app) == server.sent
    assert all(isinstance(entry["duration_ms"], int | float) for entry in access)
