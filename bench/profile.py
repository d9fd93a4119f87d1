"""Profile one scenario of the service in-process with cProfile (no server, no wrk).

    .venv/bin/python -m bench.profile --size 10000 --scenario list --requests 500

Requests go through the full WSGI handler (middleware, DRF, the bus, SQL) via Django's test
client against bench_service_<size>; the top functions by cumulative and own time are printed.
"""

import argparse
import cProfile
import os
import pstats
import time

from bench import seed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--scenario", default="list", choices=["detail", "list", "filtered", "search", "stock"])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=35)
    options = parser.parse_args()
    os.environ.update(
        {
            k: v
            for k, v in seed.service_env(options.size).items()
            if k not in os.environ
            or k
            in (
                "DATABASE_URL",
                "DEBUG",
                "SECRET_KEY",
                "SECURE_SSL_REDIRECT",
                "THROTTLE_ANON_RATE",
                "THROTTLE_USER_RATE",
                "LOG_LEVEL",
                "DJANGO_SETTINGS_MODULE",
            )
        }
    )
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT md5('product-' || %s)::uuid::text", [seed.HOT_PRODUCT])
        hot = cursor.fetchone()[0]

    def one():
        if options.scenario == "detail":
            response = client.get(f"/api/products/{hot}/")
        elif options.scenario == "list":
            response = client.get("/api/products/")
        elif options.scenario == "filtered":
            response = client.get(f"/api/products/?category={seed.FILTER_CATEGORY}&ordering=price")
        elif options.scenario == "search":
            response = client.get(f"/api/products/?search={seed.SEARCH_WORD}")
        else:
            response = client.post(
                f"/api/products/{hot}/stock/",
                {"delta": 1},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {seed.TOKEN}",
            )
        assert response.status_code == 200, response.content

    for _ in range(20):
        one()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(options.requests):
        one()
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(
        f"{options.scenario}: {options.requests} requests in {elapsed:.2f}s under cProfile"
        f" ({elapsed / options.requests * 1000:.2f} ms each)"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(options.top)
    stats.sort_stats("tottime").print_stats(options.top)


if __name__ == "__main__":
    main()
