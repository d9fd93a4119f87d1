"""Helpers shared by tests: the API's product fields as the contract states them, time passing for a
reservation, and helpers for tests that start real processes (gunicorn, manage.py) against the
test databases."""

import base64
import datetime
import json
import os
import socket
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.db import connection, connections
from django.utils import timezone

from cqrs_demo.routers import read_store_alias

# The fields of a product representation, as the API contract lists them (an oracle: the code's
# own list is products.read.tables.PRODUCTS).
REPRESENTATION_KEYS = frozenset(
    {
        "id",
        "sku",
        "name",
        "description",
        "category",
        "category_name",
        "price",
        "quantity",
        "reserved",
        "available",
        "in_stock",
        "reorder_point",
        "version",
        "created_at",
        "updated_at",
    }
)


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(settings_dict, name=None):
    """Return a URL for the database a Django ``settings_dict`` describes (or database ``name`` on its server)."""
    host = settings_dict["HOST"] or ""
    if host.startswith("/"):
        host = quote(host, safe="")  # a unix socket directory
    elif ":" in host:
        host = f"[{host}]"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    user = quote(settings_dict["USER"] or "", safe="")
    password = f":{quote(settings_dict['PASSWORD'], safe='')}" if settings_dict["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    # Options such as sslmode travel in the query; the connect timeout is each process's own.
    options = {key: value for key, value in settings_dict["OPTIONS"].items() if key != "connect_timeout"}
    query = urlencode({key: value for key, value in options.items() if isinstance(value, str | int)})
    database = quote(name or settings_dict["NAME"], safe="")
    return f"postgres://{credentials}{host}{port}/{database}" + (f"?{query}" if query else "")


def lapse(reservation_id, ago=datetime.timedelta(hours=1), moment=None):
    """Let time pass for a reservation: move its expiry ``ago`` (or to ``moment``) into the past.

    In the write tables and the read store alike, with one timestamp, so a rebuild finds them
    equal; an hour back by default, so it is in the past of every clock the two sides compare
    with (``now()`` is a test transaction's start). Lines that hold nothing any more stay so.
    """
    moment = moment or timezone.now() - ago
    with connection.cursor() as cursor:
        cursor.execute("UPDATE products_reservation SET expires_at = %s WHERE id = %s", [moment, reservation_id])
        cursor.execute(
            "UPDATE products_reservationline SET held_until = %s WHERE reservation_id = %s AND held_until IS NOT NULL",
            [moment, reservation_id],
        )
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute("UPDATE read_reservation SET expires_at = %s WHERE id = %s", [moment, reservation_id])
        cursor.execute("UPDATE read_stock_hold SET expires_at = %s WHERE reservation_id = %s", [moment, reservation_id])
    return moment


def decoded(cursor):
    """Return what a cursor holds: ``[list key, direction, sort value, row id]``."""
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def retargeted(cursor, value, row_id, direction=None):
    """Return a real ``cursor`` pointing at another sort value and row id, still of its list.

    A made-up cursor is refused for naming no list before its values are read; tests of
    how the values are read start from a real one.
    """
    key, its_direction, _, _ = decoded(cursor)
    payload = json.dumps([key, direction or its_direction, value, row_id]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def cursor_of(link):
    """Return the cursor of a ``next`` or ``previous`` link."""
    return parse_qs(urlsplit(link).query)["cursor"][0]


def require(available, message):
    """Skip a test whose outside part (a broker, a browser) is missing, except in CI, where that is a broken setup."""
    if available:
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
