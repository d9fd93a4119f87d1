"""One log line per request, from a gunicorn started as the container entrypoint starts it:
every line JSON, one timestamp format, and no credential anywhere."""

import json
import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token

from products.tests.support import database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class Sender:
    """Send requests to a server and count each (method, path, status) that got an answer."""

    def __init__(self, server):
        self.server = server
        self.sent = Counter()

    def request(self, method, path, *, token=None, body=None):
        status = self.server.request(method, path, body, token=token).status
        self.sent[(method, path.split("?")[0], status)] += 1
        return status


def _requests(entries):
    """Count the (method, path, status) of logged requests, less the start-up probes of /health/live."""
    return Counter(
        (entry["method"], entry["path"], entry["status"]) for entry in entries if entry["path"] != "/health/live"
    )


def _read_log(server):
    """Stop gunicorn (its shutdown lines included) and return every line of its output, parsed."""
    server.stop()
    lines = server.log().splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}\n\n" + "\n".join(lines))
    return entries


@pytest.fixture
def token():
    user = User.objects.create_superuser("log-admin", "admin@example.com", "pw")
    return Token.objects.create(user=user).key


@pytest.fixture
def start_server(start_gunicorn):
    """Start gunicorn as the entrypoint does, with the logging defaults (LOG_LEVEL, access log unset)."""

    def start(**env):
        defaults = {"LOG_LEVEL": None, "GUNICORN_ACCESS_LOG": None, "GUNICORN_MAX_REQUESTS": None}
        server = start_gunicorn(
            database_url(connection.settings_dict), workers=2, entrypoint=True, **{**defaults, **env}
        )
        return Sender(server)

    return start


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

    entries = _read_log(server.server)

    _assert_one_format_and_no_secret(entries, token)
    requests = [entry for entry in entries if entry["message"] == "request" or "access" in entry["logger"]]
    assert {entry["logger"] for entry in requests} == {"cqrs_demo.request"}  # no gunicorn access line
    assert _requests(requests) == server.sent
    users = {entry["path"]: entry["user"] for entry in requests if entry["status"] == 201}
    assert users == {"/api/categories/": "log-admin"}
    # gunicorn's own log (start, workers, shutdown) comes in the same format.
    gunicorn_messages = [entry["message"] for entry in entries if entry["logger"] == "gunicorn.error"]
    assert any(message.startswith("Listening at") for message in gunicorn_messages), gunicorn_messages
    assert any(message.startswith("Shutting down") for message in gunicorn_messages), gunicorn_messages


def test_an_enabled_gunicorn_access_log_uses_the_same_json_format(start_server, token):
    server = start_server(GUNICORN_ACCESS_LOG="true")
    _send_a_mix(server, token)

    entries = _read_log(server.server)

    _assert_one_format_and_no_secret(entries, token)
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    app = [entry for entry in entries if entry["logger"] == "cqrs_demo.request"]
    assert _requests(access) == server.sent
    assert _requests(app) == server.sent
    assert all(isinstance(entry["duration_ms"], int | float) for entry in access)
