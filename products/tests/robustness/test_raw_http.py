"""Requests only a raw socket can send (chunked bodies, broken headers, odd bytes in the path)
get a 4xx from a real gunicorn, never a 500, and change nothing."""

import socket
from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.write import commands

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BIG_JSON = b'{"delta": 1, "reason": "' + b"r" * (2 * 1024 * 1024) + b'"}'


def _chunked(body, size=65536):
    chunks = (body[i : i + size] for i in range(0, len(body), size))
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def _exchange(port, request):
    """Send raw bytes; return the status code and the headers (lower-case names) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
    return int(head[0].split()[1]), headers


def test_raw_requests_get_a_4xx_and_change_nothing(live_gunicorn, admin_token, snapshot):
    command = commands.CreateProduct(sku="RAW-1", name="Raw", price=Decimal("1.00"), initial_stock=5)
    product_id = bus.dispatch(command)["id"]
    auth = f"Authorization: Token {admin_token}\r\n".encode()
    stock = f"POST /api/products/{product_id}/stock/ HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + auth
    create = b"POST /api/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
    close = b"Connection: close\r\n"
    json_body = b"Content-Type: application/json\r\n"
    # (request, whether Django answers it: gunicorn refuses broken framing itself, as text/html)
    cases = {
        "chunked body over the size limit": (
            stock + json_body + b"Transfer-Encoding: chunked\r\n" + close + b"\r\n" + _chunked(BIG_JSON),
            True,
        ),
        "host not allowed": (b"GET /api/products/ HTTP/1.1\r\nHost: evil.example\r\n" + close + b"\r\n", True),
        "NUL in the path": (b"GET /api/products/%00/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + close + b"\r\n", True),
        "invalid UTF-8 in the path": (
            b"GET /api/categories/%ff%fe/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + close + b"\r\n",
            True,
        ),
        "surrogate in the query": (
            b"GET /api/products/?category=%ED%A0%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + close + b"\r\n",
            True,
        ),
        "token of invalid bytes": (
            b"POST /api/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token \xff\xfe\r\n"
            + json_body
            + b"Content-Length: 2\r\n"
            + close
            + b"\r\n{}",
            True,
        ),
        "NUL in a header": (
            create + b"Idempotency-Key: a\x00b\r\n" + json_body + b"Content-Length: 2\r\n" + close + b"\r\n{}",
            False,
        ),
        "content-length that is not a number": (
            create + json_body + b"Content-Length: abc\r\n" + close + b"\r\n{}",
            False,
        ),
        "header over gunicorn's limit": (
            b"GET /api/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 10000 + b"\r\n" + close + b"\r\n",
            False,
        ),
    }
    before = snapshot()
    for name, (request, reaches_django) in cases.items():
        status, headers = _exchange(live_gunicorn.port, request)
        assert 400 <= status < 500, (name, status)
        if reaches_django:
            assert headers["content-type"].startswith("application/json"), (name, headers)
    assert snapshot() == before
