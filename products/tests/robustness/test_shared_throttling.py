"""Shared throttling: with REDIS_URL, every process counts against the same limits.

Runs against the Redis that REDIS_URL names, else 127.0.0.1:6379 (`.ci/ensure-redis` starts
one in CI); skipped when none answers, except in CI, where that fails. Keys get a prefix of their own per test, and no
test flushes the Redis it uses.
"""

import os
import subprocess
import sys
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from products.tests.robustness.conftest import ROOT
from products.tests.support import database_url, free_port, require

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
RATE = 3  # requests a minute


def _redis_answers():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        return False


@pytest.fixture
def redis_available():
    """Skip without Redis, except in CI, where a missing Redis is a broken setup (.ci/ensure-redis)."""
    require(_redis_answers(), f"no Redis answers at {REDIS_URL}")


@pytest.fixture
def key_prefix(redis_available):
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    yield prefix
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def low_anon_rate(monkeypatch):
    # DRF copies the rates onto the class at import; the class attribute is what throttles read.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": f"{RATE}/min", "user": None})


def _redis_cache(key_prefix):
    """A cache as settings build it from REDIS_URL: every instance has its own connection pool."""
    return RedisCache(REDIS_URL, {"KEY_PREFIX": key_prefix, "OPTIONS": {"socket_connect_timeout": 2}})


def _allowed(cache):
    """Ask a fresh anonymous-rate throttle that uses ``cache`` about one request from 127.0.0.1."""
    throttle = AnonRateThrottle()
    throttle.cache = cache
    request = APIRequestFactory().get("/api/products/", REMOTE_ADDR="127.0.0.1")
    request.user = AnonymousUser()
    return throttle.allow_request(request, view=None)


def test_two_redis_connections_share_one_count(key_prefix, low_anon_rate):
    first, second = _redis_cache(key_prefix), _redis_cache(key_prefix)
    assert first._cache.get_client() is not second._cache.get_client()

    answers = [_allowed(first if number % 2 else second) for number in range(RATE)]

    assert answers == [True] * RATE
    assert _allowed(first) is False
    assert _allowed(second) is False


def test_two_local_memory_caches_count_apart(low_anon_rate):
    # What REDIS_URL fixes: without it each worker process has its own counts.
    first, second = LocMemCache(f"a-{uuid.uuid4()}", {}), LocMemCache(f"b-{uuid.uuid4()}", {})

    assert [_allowed(first) for _ in range(RATE)] == [True] * RATE
    assert _allowed(first) is False
    assert _allowed(second) is True


@pytest.mark.django_db
def test_settings_build_a_redis_cache_from_redis_url(key_prefix):
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c['KEY_PREFIX'])"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "SECRET_KEY": "shared-throttle-test-" + "s3cr3t-k3y-" * 5,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": key_prefix,
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache", key_prefix]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_gunicorn_process_refuses_the_request_over_the_rate_another_process_counted(
    anon_client, settings, key_prefix, low_anon_rate, start_gunicorn
):
    # This process (the test client) and gunicorn's workers count in the same Redis.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": key_prefix,
        }
    }
    server = start_gunicorn(
        database_url(connection.settings_dict),
        workers=2,
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=key_prefix,
        THROTTLE_ANON_RATE=f"{RATE}/min",
    )

    assert [anon_client.get("/api/products/", REMOTE_ADDR="127.0.0.1").status_code for _ in range(RATE)] == [200] * 3

    refused = server.request("GET", "/api/products/")
    assert refused.status == 429, refused.body
    assert int(refused.headers["retry-after"]) > 0
    assert refused.json()["detail"]


@pytest.mark.django_db
def test_an_unreachable_redis_is_a_503_not_a_hang(anon_client, settings, low_anon_rate):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }

    response = anon_client.get("/api/products/")

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "cache_unavailable"
    assert response["Retry-After"]
