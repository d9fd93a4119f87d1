"""Throttling: a client over its rate gets 429 with Retry-After and a JSON detail."""

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    """Throttle anonymous clients at 3 requests a minute and users at 5.

    DRF copies the rates onto the throttle class when it is imported, so changing the
    setting afterwards would not reach it; the class attribute is what the throttles read.
    """
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "5/min"})
    cache.clear()  # the request history lives in the default cache
    yield
    cache.clear()


def _assert_throttled(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_anonymous_client_over_its_rate_gets_429_with_retry_after(anon_client, low_rates):
    assert [anon_client.get("/api/products/").status_code for _ in range(3)] == [200, 200, 200]
    _assert_throttled(anon_client.get("/api/products/"))
    _assert_throttled(anon_client.get("/api/categories/"))


def test_token_user_over_its_rate_gets_429_and_the_write_is_not_applied(client, plain_client, make_product, low_rates):
    product_id = make_product(initial_stock=5)
    assert [client.get(f"/api/products/{product_id}/").status_code for _ in range(5)] == [200] * 5

    _assert_throttled(client.post(f"/api/products/{product_id}/stock/", {"delta": -1}))
    assert client.get(f"/api/products/{product_id}/stock/").status_code == 429
    # Users are counted apart: another token still gets through.
    response = plain_client.get(f"/api/products/{product_id}/stock/")
    assert response.status_code == 200
    assert response.json()["quantity"] == 5
