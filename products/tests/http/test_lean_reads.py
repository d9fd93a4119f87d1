"""Plain anonymous JSON reads skip DRF's request cycle (products/http/views/lean.py) and answer exactly as it does."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db

# A session cookie naming no session: DRF's full cycle, which finds no one (as without it).
FULL_CYCLE = {"HTTP_COOKIE": "sessionid=no-such-session"}


def _full(path, **headers):
    """GET through DRF's full cycle, from a new client (the answer deletes the cookie, which a client would keep)."""
    return APIClient().get(path, **headers, **FULL_CYCLE)


HEADERS = ("Content-Type", "ETag", "Allow", "Retry-After", "WWW-Authenticate")


def _took_lean_path(response):
    # The renderer's context holds the request the view saw: DRF's own, or Django's on the lean path.
    return not isinstance(response.renderer_context["request"], Request)


def _answer(response):
    vary = {value.strip() for value in response.get("Vary", "").split(",")} - {"Cookie", ""}
    return response.status_code, response.content, {name: response.get(name) for name in HEADERS}, vary


@pytest.fixture
def catalogue(make_product):
    first = make_product(name="Claw hammer", price=Decimal("12.50"), initial_stock=4)
    for number in range(3):
        make_product(name=f"Screwdriver {number}", price=Decimal("3.00"))
    return first


def _paths(product_id):
    return [
        "/api/products/",
        f"/api/products/{product_id}/",
        "/api/products/?page_size=2",
        "/api/products/?search=hammer&ordering=-price",
        "/api/products/?in_stock=true&min_price=5",
        "/api/products/?page_size=0",
        "/api/products/?min_price=abc",
        "/api/products/?cursor=forged",
        "/api/products/?ordering=nonsense",
        "/api/products/00000000-0000-0000-0000-000000000000/",
        "/api/products",
    ]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_each_read_answers_as_drfs_full_cycle(anon_client, catalogue, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    for path in _paths(catalogue):
        lean = anon_client.get(path, **headers)
        full = _full(path, **headers)
        assert _took_lean_path(lean), path
        assert not _took_lean_path(full), path
        assert _answer(lean) == _answer(full), path


def test_the_second_page_answers_alike(anon_client, catalogue):
    next_link = anon_client.get("/api/products/?page_size=2").json()["next"]
    lean, full = anon_client.get(next_link), _full(next_link)
    assert _took_lean_path(lean)
    assert _answer(lean) == _answer(full)
    assert len(lean.json()["results"]) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ACCEPT": "text/html"},  # the browsable API
        {"HTTP_ACCEPT": "application/json; indent=4"},
        {"HTTP_AUTHORIZATION": "Token not-a-real-token"},  # 401, as DRF answers it
        FULL_CYCLE,
    ],
)
def test_anything_but_a_plain_anonymous_json_get_takes_drfs_cycle(anon_client, catalogue, headers):
    response = anon_client.get("/api/products/", **headers)
    assert not _took_lean_path(response)
    if "HTTP_AUTHORIZATION" in headers:
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    else:
        assert response.status_code == 200


def test_a_format_override_takes_drfs_cycle(anon_client, catalogue):
    assert not _took_lean_path(anon_client.get("/api/products/?format=json"))
    assert not _took_lean_path(anon_client.get("/api/products/?format=api"))


def test_closed_reads_are_refused_as_drf_refuses_them(anon_client, catalogue, settings):
    settings.API_READS_REQUIRE_AUTH = True
    response = anon_client.get("/api/products/")
    assert response.status_code == 401
    assert not _took_lean_path(response)


def test_throttled_reads_answer_as_drf_does(catalogue, monkeypatch):
    # DRF copies the rates onto the class at import; the class attribute is what throttles read.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "5/min"})
    cache.clear()
    try:
        lean = [APIClient().get("/api/products/") for _ in range(3)]
        full = [_full("/api/products/", REMOTE_ADDR="10.0.0.2") for _ in range(3)]
        assert [response.status_code for response in lean] == [200, 200, 429]
        assert all(_took_lean_path(response) for response in lean)
        assert _answer(lean[2]) == _answer(full[2])
        assert int(lean[2]["Retry-After"]) > 0
    finally:
        cache.clear()
