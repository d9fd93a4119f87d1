"""Profile one scenario of the service in-process with cProfile (no server, no wrk).

    .venv/bin/python -m bench.profile --size 10000 --scenario list --requests 500
    .venv/bin/python -m bench.profile --scenario checkout --requests 300 --database bench_checkout_service_10000

Requests go through the full WSGI handler (middleware, DRF, the bus, SQL) via Django's test
client against bench_service_<size>; the top functions by cumulative and own time are printed.
``checkout`` reserves three random products of bench/checkout.py's 1,000 and commits the reservation
(one "request" is the two); it also prints the SQL statements by their total time, measured around
each ``execute`` (give it ``--database`` the checkout benchmark's copy to leave the seeded data alone).
"""

import argparse
import cProfile
import os
import pstats
import random
import re
import time
from collections import defaultdict

from bench import seed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument(
        "--scenario", default="list", choices=["detail", "list", "filtered", "search", "stock", "checkout"]
    )
    parser.add_argument("--database", help="a database name instead of bench_service_<size>")
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
    if options.database:
        os.environ["DATABASE_URL"] = f"{seed.SERVER_URL}/{options.database}"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT md5('product-' || %s)::uuid::text", [seed.HOT_PRODUCT])
        hot = cursor.fetchone()[0]
    auth = {"HTTP_AUTHORIZATION": f"Token {seed.TOKEN}"}
    if options.scenario == "checkout":
        from bench.write import SPREAD

        step = options.size // SPREAD
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT md5('product-' || i)::uuid::text, s.quantity FROM generate_series(1, %s, %s) AS i"
                " JOIN products_stocklevel s ON s.product_id = md5('product-' || i)::uuid",
                [options.size, step],
            )
            stock = cursor.fetchall()
        products = [product for product, _ in stock]
        for product, quantity in stock:
            if quantity < 10_000:
                client.post(
                    f"/api/products/{product}/stock/", {"delta": 100_000}, content_type="application/json", **auth
                )
        rng = random.Random(7)
    statements = defaultdict(lambda: [0, 0.0])

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            # One key per statement: whitespace folded, savepoint names without their numbers.
            key = re.sub(r"\s+", " ", re.sub(r'"s\d+_x\d+"', '"s_x"', sql)).strip()[:110]
            statements[key][0] += 1
            statements[key][1] += time.perf_counter() - started

    def one():
        if options.scenario == "detail":
            response = client.get(f"/api/products/{hot}/")
        elif options.scenario == "list":
            response = client.get("/api/products/")
        elif options.scenario == "filtered":
            response = client.get(f"/api/products/?category={seed.FILTER_CATEGORY}&ordering=price")
        elif options.scenario == "search":
            response = client.get(f"/api/products/?search={seed.SEARCH_WORD}")
        elif options.scenario == "checkout":
            lines = [{"product": product, "quantity": 1, "location": "main"} for product in rng.sample(products, 3)]
            response = client.post(
                "/api/reservations/", {"lines": lines, "expires_in": 900}, content_type="application/json", **auth
            )
            assert response.status_code == 201, response.content
            response = client.post(response["Location"] + "commit/", content_type="application/json", **auth)
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
    if options.scenario == "checkout":
        # A run without cProfile, timing every statement (what the database takes, seen from the client).
        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            for _ in range(options.requests):
                one()
        elapsed = time.perf_counter() - started
        in_sql = sum(seconds for _, seconds in statements.values())
        print(
            f"checkout without cProfile: {elapsed / options.requests * 1000:.2f} ms each, of which SQL"
            f" {in_sql / options.requests * 1000:.2f} ms in"
            f" {sum(count for count, _ in statements.values()) / options.requests:.1f} statements"
        )
        for key, (count, seconds) in sorted(statements.items(), key=lambda item: -item[1][1])[: options.top]:
            print(f"  {seconds / options.requests * 1000:7.3f} ms  {count / options.requests:5.2f}x  {key}")
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
