"""Nothing a client sends reaches a 500: every malformed, mistyped or out-of-range request gets
a 4xx with a JSON body, and changes nothing in the database."""

import base64
import json
from decimal import Decimal

import pytest
from django.conf import settings

from cqrs_demo.bus import bus
from products.tests.support import cursor_of, retargeted
from products.write import commands

pytestmark = pytest.mark.django_db

JSON = "application/json"
PRODUCT = "/api/products/{id}/"
STOCK = "/api/products/{id}/stock/"
ZERO = "00000000-0000-0000-0000-000000000000"
NEW = {"sku": "NEW-1", "name": "New", "price": "1.00"}


def j(value):
    return json.dumps(value).encode()


def cursor(*payload):
    return base64.urlsafe_b64encode(json.dumps(list(payload)).encode()).decode().rstrip("=")


# (method, path, body, content type, expected status or None for "any 4xx")
WRITE_CASES = {
    # Unknown and read-only fields.
    "create: unknown field": ("POST", "/api/products/", j({**NEW, "colour": "red"}), JSON, 400),
    "create: quantity is read-only": ("POST", "/api/products/", j({**NEW, "quantity": 5}), JSON, 400),
    "create: id is read-only": ("POST", "/api/products/", j({**NEW, "id": "x"}), JSON, 400),
    "create: version is read-only": ("POST", "/api/products/", j({**NEW, "version": 3}), JSON, 400),
    "patch: sku is immutable": ("PATCH", PRODUCT, j({"sku": "OTHER"}), JSON, 400),
    "patch: quantity is not written here": ("PATCH", PRODUCT, j({"quantity": 1}), JSON, 400),
    "patch: in_stock is read-only": ("PATCH", PRODUCT, j({"in_stock": False}), JSON, 400),
    "patch: unknown field": ("PATCH", PRODUCT, j({"colour": "red"}), JSON, 400),
    "put: missing fields": ("PUT", PRODUCT, j({"name": "x"}), JSON, 400),
    "stock: unknown field": ("POST", STOCK, j({"delta": 1, "extra": 1}), JSON, 400),
    "category: unknown field": ("POST", "/api/categories/", j({"name": "X", "colour": "red"}), JSON, 400),
    "category rename: slug is not writable": ("PATCH", "/api/categories/tools/", j({"slug": "other"}), JSON, 400),
    # Wrong types.
    "create: sku as list": ("POST", "/api/products/", j({**NEW, "sku": ["A"]}), JSON, 400),
    "create: name as object": ("POST", "/api/products/", j({**NEW, "name": {"a": 1}}), JSON, 400),
    "create: name as boolean": ("POST", "/api/products/", j({**NEW, "name": True}), JSON, 400),
    "create: name as null": ("POST", "/api/products/", j({**NEW, "name": None}), JSON, 400),
    "create: price as boolean": ("POST", "/api/products/", j({**NEW, "price": True}), JSON, 400),
    "create: price as list": ("POST", "/api/products/", j({**NEW, "price": [1]}), JSON, 400),
    "create: price as object": ("POST", "/api/products/", j({**NEW, "price": {"a": 1}}), JSON, 400),
    "create: price as words": ("POST", "/api/products/", j({**NEW, "price": "ten"}), JSON, 400),
    "create: category as list": ("POST", "/api/products/", j({**NEW, "category": ["tools"]}), JSON, 400),
    "create: category unknown": ("POST", "/api/products/", j({**NEW, "category": "nope"}), JSON, 400),
    "create: initial_stock as words": ("POST", "/api/products/", j({**NEW, "initial_stock": "ten"}), JSON, 400),
    "create: initial_stock as fraction": ("POST", "/api/products/", j({**NEW, "initial_stock": 1.5}), JSON, 400),
    "create: initial_stock as boolean": ("POST", "/api/products/", j({**NEW, "initial_stock": True}), JSON, 400),
    "create: initial_stock as list": ("POST", "/api/products/", j({**NEW, "initial_stock": [1]}), JSON, 400),
    "stock: delta as words": ("POST", STOCK, j({"delta": "abc"}), JSON, 400),
    "stock: delta as fraction": ("POST", STOCK, j({"delta": 1.5}), JSON, 400),
    "stock: delta as boolean": ("POST", STOCK, j({"delta": True}), JSON, 400),
    "stock: delta as list": ("POST", STOCK, j({"delta": [1]}), JSON, 400),
    "stock: delta as object": ("POST", STOCK, j({"delta": {"a": 1}}), JSON, 400),
    "stock: delta as null": ("POST", STOCK, j({"delta": None}), JSON, 400),
    "stock: quantity as words": ("POST", STOCK, j({"quantity": "five"}), JSON, 400),
    "stock: reason as list": ("POST", STOCK, j({"delta": 1, "reason": ["a"]}), JSON, 400),
    "category: name as list": ("POST", "/api/categories/", j({"name": ["a"]}), JSON, 400),
    "category rename: name as null": ("PATCH", "/api/categories/tools/", j({"name": None}), JSON, 400),
    # Out of range.
    "create: initial_stock 2**31": ("POST", "/api/products/", j({**NEW, "initial_stock": 2**31}), JSON, 400),
    "create: initial_stock 10**30": ("POST", "/api/products/", j({**NEW, "initial_stock": 10**30}), JSON, 400),
    "create: initial_stock -1": ("POST", "/api/products/", j({**NEW, "initial_stock": -1}), JSON, 400),
    "create: price 2**31": ("POST", "/api/products/", j({**NEW, "price": 2**31}), JSON, 400),
    "create: price 10**30": ("POST", "/api/products/", j({**NEW, "price": 10**30}), JSON, 400),
    "create: price 10**30 as string": ("POST", "/api/products/", j({**NEW, "price": str(10**30)}), JSON, 400),
    "create: price 100000000": ("POST", "/api/products/", j({**NEW, "price": "100000000.00"}), JSON, 400),
    "create: negative price": ("POST", "/api/products/", j({**NEW, "price": "-0.01"}), JSON, 400),
    "create: price with 3 decimals": ("POST", "/api/products/", j({**NEW, "price": "1.005"}), JSON, 400),
    "create: price 1e-400": ("POST", "/api/products/", j({**NEW, "price": "1e-400"}), JSON, 400),
    "create: price NaN": ("POST", "/api/products/", j({**NEW, "price": "NaN"}), JSON, 400),
    "create: price sNaN": ("POST", "/api/products/", j({**NEW, "price": "sNaN"}), JSON, 400),
    "create: price Infinity": ("POST", "/api/products/", j({**NEW, "price": "Infinity"}), JSON, 400),
    "create: price -Infinity": ("POST", "/api/products/", j({**NEW, "price": "-Infinity"}), JSON, 400),
    "create: price 1e400": ("POST", "/api/products/", j({**NEW, "price": "1e400"}), JSON, 400),
    "create: sku too long": ("POST", "/api/products/", j({**NEW, "sku": "A" * 65}), JSON, 400),
    "create: sku with a space": ("POST", "/api/products/", j({**NEW, "sku": "A B"}), JSON, 400),
    "create: name too long": ("POST", "/api/products/", j({**NEW, "name": "n" * 201}), JSON, 400),
    "create: description too long": ("POST", "/api/products/", j({**NEW, "description": "d" * 5001}), JSON, 400),
    "create: duplicate sku in other case": ("POST", "/api/products/", j({**NEW, "sku": "bad-1"}), JSON, 400),
    "patch: price NaN": ("PATCH", PRODUCT, j({"price": "NaN"}), JSON, 400),
    "patch: price Infinity": ("PATCH", PRODUCT, j({"price": "Infinity"}), JSON, 400),
    "patch: price 10**30": ("PATCH", PRODUCT, j({"price": 10**30}), JSON, 400),
    "patch: empty name": ("PATCH", PRODUCT, j({"name": ""}), JSON, 400),
    "stock: delta 0": ("POST", STOCK, j({"delta": 0}), JSON, 400),
    "stock: delta 2**31": ("POST", STOCK, j({"delta": 2**31}), JSON, 400),
    "stock: delta -2**31": ("POST", STOCK, j({"delta": -(2**31)}), JSON, 400),
    "stock: delta 2**63": ("POST", STOCK, j({"delta": 2**63}), JSON, 400),
    "stock: delta 10**30": ("POST", STOCK, j({"delta": 10**30}), JSON, 400),
    "stock: delta -10**30": ("POST", STOCK, j({"delta": -(10**30)}), JSON, 400),
    "stock: delta 1e308": ("POST", STOCK, j({"delta": 1e308}), JSON, 400),
    "stock: delta NaN string": ("POST", STOCK, j({"delta": "NaN"}), JSON, 400),
    "stock: delta Infinity string": ("POST", STOCK, j({"delta": "Infinity"}), JSON, 400),
    "stock: delta over the stock limit": ("POST", STOCK, j({"delta": 1_000_000_000}), JSON, 400),
    "stock: delta below zero": ("POST", STOCK, j({"delta": -8}), JSON, 409),
    "stock: quantity -1": ("POST", STOCK, j({"quantity": -1}), JSON, 400),
    "stock: quantity 2**31": ("POST", STOCK, j({"quantity": 2**31}), JSON, 400),
    "stock: quantity 10**30": ("POST", STOCK, j({"quantity": 10**30}), JSON, 400),
    "stock: quantity NaN string": ("POST", STOCK, j({"quantity": "NaN"}), JSON, 400),
    "stock: delta and quantity": ("POST", STOCK, j({"delta": 1, "quantity": 1}), JSON, 400),
    "stock: neither delta nor quantity": ("POST", STOCK, j({"reason": "x"}), JSON, 400),
    "stock: reason too long": ("POST", STOCK, j({"delta": 1, "reason": "r" * 201}), JSON, 400),
    "category: empty name": ("POST", "/api/categories/", j({"name": ""}), JSON, 400),
    "category: name too long": ("POST", "/api/categories/", j({"name": "c" * 101}), JSON, 400),
    "category: bad slug": ("POST", "/api/categories/", j({"name": "X", "slug": "a b"}), JSON, 400),
    "category: no slug derivable": ("POST", "/api/categories/", j({"name": "!!!"}), JSON, 400),
    "category: duplicate slug": ("POST", "/api/categories/", j({"name": "Tools"}), JSON, 400),
    # NUL bytes and lone surrogates.
    "create: NUL in sku": ("POST", "/api/products/", j({**NEW, "sku": "A\x00B"}), JSON, 400),
    "create: NUL in name": ("POST", "/api/products/", j({**NEW, "name": "a\x00b"}), JSON, 400),
    "create: NUL in description": ("POST", "/api/products/", j({**NEW, "description": "\x00"}), JSON, 400),
    "patch: NUL in name": ("PATCH", PRODUCT, j({"name": "a\x00"}), JSON, 400),
    "stock: NUL in reason": ("POST", STOCK, j({"delta": 1, "reason": "\x00"}), JSON, 400),
    "category: NUL in name": ("POST", "/api/categories/", j({"name": "a\x00b", "slug": "nul"}), JSON, 400),
    "create: lone surrogate in name": (
        "POST",
        "/api/products/",
        b'{"sku": "S-1", "name": "\\ud800", "price": "1"}',
        JSON,
        400,
    ),
    "patch: lone surrogate in name": ("PATCH", PRODUCT, b'{"name": "a\\udfff"}', JSON, 400),
    "stock: lone surrogate in reason": ("POST", STOCK, b'{"delta": 1, "reason": "\\ud800"}', JSON, 400),
    "create: invalid UTF-8": ("POST", "/api/products/", b'{"sku": "S-1", "name": "\xff", "price": "1"}', JSON, 400),
    # Bodies that are not a JSON object.
    "create: malformed JSON": ("POST", "/api/products/", b'{"sku": "S-1", ', JSON, 400),
    "create: single quotes": ("POST", "/api/products/", b"{'sku': 'S-1'}", JSON, 400),
    "create: NaN literal": ("POST", "/api/products/", b'{"sku": "S-1", "name": "n", "price": NaN}', JSON, 400),
    "create: empty body": ("POST", "/api/products/", b"", JSON, 400),
    "create: JSON array": ("POST", "/api/products/", j([NEW]), JSON, 400),
    "create: JSON string": ("POST", "/api/products/", j("NEW-1"), JSON, 400),
    "create: JSON null": ("POST", "/api/products/", b"null", JSON, 400),
    "create: JSON number": ("POST", "/api/products/", b"1", JSON, 400),
    "create: deeply nested JSON": ("POST", "/api/products/", b"[" * 5000 + b"]" * 5000, JSON, 400),
    "stock: JSON array": ("POST", STOCK, j([{"delta": 1}]), JSON, 400),
    "stock: JSON string": ("POST", STOCK, j("delta"), JSON, 400),
    "patch: JSON array": ("PATCH", PRODUCT, j([{"name": "x"}]), JSON, 400),
    "put: JSON string": ("PUT", PRODUCT, j("x"), JSON, 400),
    "category: JSON array": ("POST", "/api/categories/", j([{"name": "x"}]), JSON, 400),
    "category rename: malformed JSON": ("PATCH", "/api/categories/tools/", b"{", JSON, 400),
    # Media types and sizes.
    "create: text/plain": ("POST", "/api/products/", j(NEW), "text/plain", 415),
    "stock: text/plain": ("POST", STOCK, j({"delta": 1}), "text/plain", 415),
    "patch: application/xml": ("PATCH", PRODUCT, b"<name>x</name>", "application/xml", 415),
    # Form bodies are refused as a media type, or parsed and refused as invalid: either is a 4xx.
    "stock: form with words for delta": ("POST", STOCK, b"delta=abc", "application/x-www-form-urlencoded", None),
    "stock: multipart without boundary": ("POST", STOCK, b"--x\r\n", "multipart/form-data", None),
    "stock: broken multipart": ("POST", STOCK, b"garbage", "multipart/form-data; boundary=zz", None),
    "stock: JSON with a charset": ("POST", STOCK, j({"delta": "x"}), "application/json; charset=latin-1", None),
    "stock: no content type": ("POST", STOCK, j({"delta": 1}), "", None),
    "create: oversized body": (
        "POST",
        "/api/products/",
        j({**NEW, "description": "d" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}),
        JSON,
        413,
    ),
    "stock: oversized body": ("POST", STOCK, b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), JSON, 413),
    # Methods and paths.
    "categories: PUT is not allowed": ("PUT", "/api/categories/tools/", j({"name": "x"}), JSON, 405),
    "categories: DELETE is not allowed": ("DELETE", "/api/categories/tools/", None, JSON, 405),
    "stock: DELETE is not allowed": ("DELETE", STOCK, None, JSON, 405),
    "patch: id that is not a UUID": ("PATCH", "/api/products/not-a-uuid/", j({"name": "x"}), JSON, 404),
    "patch: unknown product": (
        "PATCH",
        f"/api/products/{ZERO}/",
        j({"name": "x"}),
        JSON,
        404,
    ),
    "stock: unknown product": (
        "POST",
        f"/api/products/{ZERO}/stock/",
        j({"delta": 1}),
        JSON,
        404,
    ),
    "category rename: unknown slug": ("PATCH", "/api/categories/nope/", j({"name": "x"}), JSON, 404),
}

# (query string, expected status or None for "any 4xx") on GET /api/products/
LIST_CASES = {
    "page_size 0": ("page_size=0", 400),
    "page_size -1": ("page_size=-1", 400),
    "page_size abc": ("page_size=abc", 400),
    "page_size 1.5": ("page_size=1.5", 400),
    "page_size empty": ("page_size=", 400),
    "cursor garbage": ("cursor=garbage!!", 400),
    "cursor NUL": ("cursor=%00", 400),
    "cursor of another ordering": (f"cursor={cursor('name', 'next', 'a', ZERO)}", 400),
    "cursor of 4 KB": ("cursor=" + "A" * 4000, 400),
    "ordering unknown": ("ordering=colour", 400),
    "ordering by a read-side column": ("ordering=search_document", 400),
    "min_price words": ("min_price=abc", 400),
    "min_price NaN": ("min_price=NaN", 400),
    "min_price Infinity": ("min_price=Infinity", 400),
    "min_price negative": ("min_price=-1", 400),
    "min_price 10**30": (f"min_price={10**30}", 400),
    "min_price above max_price": ("min_price=5&max_price=1", 400),
    "in_stock maybe": ("in_stock=maybe", 400),
    "category bad slug": ("category=a%20b", 400),
    "search with NUL": ("search=a%00b", 400),
    "search too long": ("search=" + "s" * 201, 400),
}


@pytest.fixture
def catalogue(make_category):
    """A category and one product in it with 7 in stock; return the product id."""
    make_category(slug="tools", name="Tools")
    return bus.dispatch(
        commands.CreateProduct(sku="BAD-1", name="Hammer", price=Decimal("3.00"), category="tools", initial_stock=7)
    )["id"]


def _assert_json_error(response, expected):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if expected is not None:
        assert response.status_code == expected, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert isinstance(body, dict) and body


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "expected"), WRITE_CASES.values(), ids=WRITE_CASES.keys()
)
def test_bad_write_gets_a_json_4xx_and_changes_nothing(
    client, catalogue, snapshot, method, path, body, content_type, expected
):
    before = snapshot()
    kwargs = {} if body is None else {"data": body, "content_type": content_type}
    response = client.generic(method, path.format(id=catalogue), **kwargs)
    _assert_json_error(response, expected)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("if_match", "method", "body", "expected"),
    [
        # Not an ETag at all: a malformed header.
        ("abc", "PATCH", {"name": "x"}, None),
        ('"1", "2"', "PATCH", {"name": "x"}, None),
        ('"-1"', "DELETE", None, None),
        ('"\x00"', "STOCK", {"delta": 1}, None),
        # Well-formed but not the current version (1): stale.
        (f'"{10**30}"', "PATCH", {"name": "x"}, 412),
        ('"2"', "DELETE", None, 412),
        ('"0"', "PUT", {"name": "x", "description": "", "category": None, "price": "1.00"}, 412),
        (f'"{2**31}"', "STOCK", {"delta": 1}, 412),
        ('W/"7"', "STOCK", {"quantity": 1}, 412),
        ('W/"1"', "STOCK", {"quantity": 1}, 412),
        ('W/"1"', "PATCH", {"name": "x"}, 412),
        ('W/"1"', "DELETE", None, 412),
    ],
)
def test_bad_if_match_gets_a_json_4xx_and_changes_nothing(
    client, catalogue, snapshot, if_match, method, body, expected
):
    before = snapshot()
    path = STOCK if method == "STOCK" else PRODUCT
    method = "POST" if method == "STOCK" else method
    kwargs = {} if body is None else {"data": j(body), "content_type": JSON}
    response = client.generic(method, path.format(id=catalogue), HTTP_IF_MATCH=if_match, **kwargs)
    _assert_json_error(response, expected)
    if expected == 412:
        assert response.json()["code"] == "version_mismatch"
    assert snapshot() == before


def test_bad_idempotency_key_gets_400_and_changes_nothing(client, catalogue, snapshot):
    before = snapshot()
    response = client.generic("POST", STOCK.format(id=catalogue), j({"delta": 1}), JSON, HTTP_IDEMPOTENCY_KEY="k" * 256)
    _assert_json_error(response, 400)
    assert snapshot() == before


@pytest.mark.parametrize(("query", "expected"), LIST_CASES.values(), ids=LIST_CASES.keys())
def test_bad_list_parameters_get_a_json_400(anon_client, catalogue, query, expected):
    _assert_json_error(anon_client.get(f"/api/products/?{query}"), expected)


# A real cursor of the list by ``ordering``, given another (direction, sort value, row id).
TAMPERED_CURSORS = {
    "a bad direction": ("sku", "up", "a", ZERO),
    "a bad id": ("sku", "next", "a", "not-a-uuid"),
    "an object value": ("sku", "next", {"a": 1}, ZERO),
    "a huge price": ("price", "next", "1e999999", ZERO),
    "a NaN price": ("price", "next", "NaN", ZERO),
    "a huge quantity": ("quantity", "next", 10**30, ZERO),
    "a bad date": ("created_at", "next", "yesterday", ZERO),
    "a NUL in the value": ("sku", "next", "a\x00", ZERO),
}


@pytest.mark.parametrize(
    ("ordering", "direction", "value", "row_id"), TAMPERED_CURSORS.values(), ids=TAMPERED_CURSORS.keys()
)
def test_a_cursor_with_bad_values_gets_a_json_400(anon_client, catalogue, ordering, direction, value, row_id):
    bus.dispatch(commands.CreateProduct(sku="BAD-2", name="Mallet", price=Decimal("4.00")))
    real = cursor_of(anon_client.get(f"/api/products/?ordering={ordering}&page_size=1").json()["next"])
    assert anon_client.get(f"/api/products/?ordering={ordering}&cursor={real}").status_code == 200
    tampered = retargeted(real, value, row_id, direction)
    _assert_json_error(anon_client.get(f"/api/products/?ordering={ordering}&cursor={tampered}"), 400)


@pytest.mark.parametrize(
    ("path", "value", "row_id"),
    [
        ("/api/products/{id}/stock/movements/", 1, "not-a-number"),
        ("/api/products/{id}/stock/movements/", 1, 2**70),
        ("/api/products/{id}/events/", 1, -(2**70)),
        ("/api/categories/", {"a": 1}, ["x"]),
        ("/api/locations/", "a\x00", "a\x00"),
    ],
)
def test_a_cursor_of_another_list_with_bad_values_gets_a_json_400(
    anon_client, catalogue, make_category, path, value, row_id
):
    bus.dispatch(commands.AdjustStock(product_id=catalogue, delta=1))
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    make_category(slug="zzz", name="Last")
    path = path.format(id=catalogue)
    real = cursor_of(anon_client.get(f"{path}?page_size=1").json()["next"])
    assert anon_client.get(f"{path}?cursor={real}").status_code == 200
    _assert_json_error(anon_client.get(f"{path}?cursor={retargeted(real, value, row_id)}"), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/api/products/{id}/stock/movements/?page_size=0",
        "/api/products/{id}/stock/movements/?page_size=abc",
        "/api/products/{id}/stock/movements/?cursor=garbage",
        "/api/products/{id}/stock/movements/?cursor=" + cursor("id", "next", 1, 2),
        "/api/categories/?page_size=-1",
        "/api/categories/?cursor=%00",
        "/api/categories/?cursor=" + cursor("slug", "next", "a", "a"),
        "/api/products/not-a-uuid/",
        f"/api/products/{ZERO}/",
        f"/api/products/{ZERO}/stock/",
        "/api/categories/a%00b/",
        "/api/nothing-here/",
    ],
)
def test_bad_read_gets_a_json_4xx(anon_client, catalogue, path):
    _assert_json_error(anon_client.get(path.format(id=catalogue)), None)


def test_page_size_above_100_means_100_even_when_huge(anon_client, catalogue):
    # The contract treats large page sizes as 100 rather than refusing them.
    response = anon_client.get(f"/api/products/?page_size={10**30}")
    assert response.status_code == 200
    assert [product["sku"] for product in response.json()["results"]] == ["BAD-1"]
