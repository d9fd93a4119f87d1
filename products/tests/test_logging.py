"""Logs are structured: one JSON line per request and per command, formatted by the handler that
settings.LOGGING configures, and no credential ever reaches a log record."""

import json
import logging
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cqrs_demo.bus import bus
from products.errors import DuplicateSkuError
from products.write import commands


@pytest.fixture
def json_formatter():
    """Return the formatter of the console handler that settings.LOGGING installs on the root logger."""
    handlers = [handler for handler in logging.getLogger().handlers if handler.get_name() == "console"]
    assert len(handlers) == 1, logging.getLogger().handlers
    return handlers[0].formatter


@pytest.fixture
def token(db):
    admin = User.objects.create_superuser("log-admin", "admin@example.com", "pw")
    return Token.objects.create(user=admin).key


def _lines(caplog, formatter, logger_name):
    return [formatter.format(record) for record in caplog.records if record.name == logger_name]


def test_a_request_logs_one_json_line_with_method_path_status_duration_and_user(caplog, json_formatter, token):
    caplog.set_level(logging.INFO, logger="cqrs_demo.request")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get("/api/products/", {"page_size": 5})

    assert response.status_code == 200
    lines = _lines(caplog, json_formatter, "cqrs_demo.request")
    assert len(lines) == 1
    assert "\n" not in lines[0]
    entry = json.loads(lines[0])
    assert entry["logger"] == "cqrs_demo.request"
    assert entry["level"] == "INFO"
    fields = {name: entry[name] for name in ("method", "path", "status", "user")}
    assert fields == {"method": "GET", "path": "/api/products/", "status": 200, "user": "log-admin"}
    assert isinstance(entry["duration_ms"], int | float)
    assert entry["duration_ms"] >= 0


@pytest.mark.django_db
def test_an_anonymous_refused_request_logs_its_status_and_no_user(caplog, json_formatter):
    caplog.set_level(logging.INFO, logger="cqrs_demo.request")

    response = APIClient().post("/api/categories/", {"slug": "tools", "name": "Tools"}, format="json")

    assert response.status_code == 401
    [line] = _lines(caplog, json_formatter, "cqrs_demo.request")
    entry = json.loads(line)
    assert (entry["method"], entry["path"], entry["status"], entry["user"]) == ("POST", "/api/categories/", 401, None)


def test_the_authorization_token_never_reaches_a_log_record(caplog, json_formatter, token):
    # Every logger at every level: whatever any of them writes could end up on stdout.
    caplog.set_level(logging.DEBUG)
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    wrong_key = token[::-1]
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Token {wrong_key}")

    assert good.get("/api/products/").status_code == 200
    created = good.post("/api/categories/", {"slug": "tools", "name": "Tools"}, format="json")
    assert created.status_code == 201
    assert good.post("/api/categories/", {"slug": "tools", "name": "Again"}, format="json").status_code == 400
    assert wrong.get("/api/products/").status_code == 401
    assert wrong.post("/api/categories/", {"slug": "x", "name": "X"}, format="json").status_code == 401

    assert len(_lines(caplog, json_formatter, "cqrs_demo.request")) == 5
    for record in caplog.records:
        line = json_formatter.format(record)
        for secret in (token, wrong_key):
            assert secret not in line, line
            assert secret not in repr(record.__dict__), record.__dict__


@pytest.mark.django_db
def test_a_command_dispatch_logs_one_json_line_with_command_outcome_and_duration(caplog, json_formatter):
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")

    bus.dispatch(commands.CreateProduct(sku="LOG-1", name="Logged", price=Decimal("1.00")))

    lines = _lines(caplog, json_formatter, "cqrs_demo.bus")
    assert len(lines) == 1
    assert "\n" not in lines[0]
    entry = json.loads(lines[0])
    assert (entry["logger"], entry["command"], entry["outcome"]) == ("cqrs_demo.bus", "CreateProduct", "ok")
    assert isinstance(entry["duration_ms"], int | float)
    assert entry["duration_ms"] >= 0


@pytest.mark.django_db
def test_a_refused_command_logs_the_error_as_its_outcome(caplog, json_formatter):
    bus.dispatch(commands.CreateProduct(sku="LOG-2", name="First", price=Decimal("1.00")))
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")

    with pytest.raises(DuplicateSkuError):
        bus.dispatch(commands.CreateProduct(sku="log-2", name="Same SKU", price=Decimal("1.00")))

    [line] = _lines(caplog, json_formatter, "cqrs_demo.bus")
    entry = json.loads(line)
    assert (entry["command"], entry["outcome"]) == ("CreateProduct", "DuplicateSkuError")
