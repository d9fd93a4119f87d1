"""Concurrent reservation requests against a real gunicorn (three worker processes) and
PostgreSQL: held stock is never oversold, reservations naming the same products in opposite
orders never deadlock, reservations, commits, releases and sales racing on one product keep
every invariant, and of a commit and a release racing on one reservation exactly one wins."""

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.read import rebuild
from products.tests.conftest import SPLIT
from products.tests.robustness.test_concurrency import _run_together
from products.write import commands
from products.write.models import Reservation, ReservationLine, StockMovement

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _project():
    """In split mode, apply the log to the read database (the worker), as a deployment's worker would."""
    if SPLIT:
        from products.read import worker

        worker.run()


def _create_product(sku, initial_stock):
    return bus.dispatch(
        commands.CreateProduct(sku=sku, name=f"Product {sku}", price=Decimal("5.00"), initial_stock=initial_stock)
    )["id"]


def _unexpected(replies, allowed):
    return [(reply.status, reply.body[:300]) for reply in replies if reply.status not in allowed]


def _reserve(server, token, lines, **fields):
    return server.request("POST", "/api/reservations/", {"lines": lines, **fields}, token=token)


def _stock(server, token, product_id):
    _project()
    reply = server.request("GET", f"/api/products/{product_id}/stock/", token=token)
    assert reply.status == 200, reply.body
    return reply.json()


def _held_now(product_id):
    """Return what the lines of active reservations hold of ``product_id`` now, in the write tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(quantity), 0) FROM products_reservationline"
            " WHERE product_id = %s AND held_until > now()",
            [product_id],
        )
        return cursor.fetchone()[0]


def _deadlocks():
    """Return how many deadlocks PostgreSQL has counted in the test database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _stop_and_flush_statistics(server):
    """Stop gunicorn and wait until its database sessions ended: a backend reports its statistics
    (deadlocks included) as it exits, before it leaves pg_stat_activity."""
    server.stop()
    with connection.cursor() as cursor:
        for _attempt in range(200):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            cursor.execute("SELECT pg_sleep(0.05)")
    pytest.fail("gunicorn's database sessions did not end")


def _check_every_location_keeps_the_invariants():
    """For every (product, location): quantity = its ledger, quantity >= what active holds hold there."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.product_id, s.location_id, s.quantity, m.total, coalesce(h.held, 0)
                 FROM products_stocklevel s
                 FULL JOIN (SELECT product_id, location_id, sum(delta) AS total FROM products_stockmovement
                             GROUP BY 1, 2) m ON m.product_id = s.product_id AND m.location_id = s.location_id
                 LEFT JOIN (SELECT product_id, location_id, sum(quantity) AS held FROM products_reservationline
                             WHERE held_until > now() GROUP BY 1, 2) h
                   ON h.product_id = s.product_id AND h.location_id = s.location_id
                WHERE s.quantity IS DISTINCT FROM m.total OR s.quantity < coalesce(h.held, 0) OR s.quantity < 0"""
        )
        assert cursor.fetchall() == []
        # Lines that hold nothing belong to ended reservations, and the lines of active ones hold.
        cursor.execute(
            """SELECT r.id, r.status, rl.held_until FROM products_reservation r
                 JOIN products_reservationline rl ON rl.reservation_id = r.id
                WHERE (r.status = 'active') <> (rl.held_until IS NOT NULL)
                   OR (r.status = 'active' AND rl.held_until <> r.expires_at)"""
        )
        assert cursor.fetchall() == []


def test_thirty_concurrent_reservations_of_ten_items_hold_exactly_ten(live_gunicorn, admin_token):
    product_id = _create_product("HOLD-1", initial_stock=10)

    replies = _run_together(
        30, lambda _: _reserve(live_gunicorn, admin_token, [{"product": product_id, "quantity": 1}])
    )

    statuses = Counter(reply.status for reply in replies)
    assert statuses == {201: 10, 409: 20}, _unexpected(replies, {201, 409})
    assert {reply.json()["code"] for reply in replies if reply.status == 409} == {"insufficient_stock"}
    if SPLIT:  # gunicorn serves split mode: its commands left the read database to the worker
        with connections[read_store_alias()].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM read_stock_hold")
            assert cursor.fetchone()[0] == 0
    stock = _stock(live_gunicorn, admin_token, product_id)
    assert (stock["quantity"], stock["reserved"], stock["available"]) == (10, 10, 0)
    assert _held_now(product_id) == 10
    assert ReservationLine.objects.filter(product_id=product_id).aggregate(total=Sum("quantity"))["total"] == 10
    assert Reservation.objects.filter(status="active").count() == 10
    _check_every_location_keeps_the_invariants()
    _project()
    assert rebuild.differences() == []


def test_reservations_naming_two_products_in_opposite_orders_never_deadlock(live_gunicorn, admin_token):
    first = _create_product("ORDER-A", initial_stock=200)
    second = _create_product("ORDER-B", initial_stock=200)
    deadlocks_before = _deadlocks()

    def send(index):
        lines = [{"product": first, "quantity": 1}, {"product": second, "quantity": 2}]
        return _reserve(live_gunicorn, admin_token, lines if index % 2 else lines[::-1])

    replies = _run_together(60, send)

    assert _unexpected(replies, {201}) == []
    for product_id, held in ((first, 60), (second, 120)):
        stock = _stock(live_gunicorn, admin_token, product_id)
        assert (stock["quantity"], stock["reserved"], stock["available"]) == (200, held, 200 - held)
    log = live_gunicorn.log()
    _stop_and_flush_statistics(live_gunicorn)
    assert _deadlocks() == deadlocks_before
    assert "deadlock" not in log.lower()
    _check_every_location_keeps_the_invariants()
    _project()
    assert rebuild.differences() == []


def test_reservations_commits_releases_and_sales_racing_on_one_product_keep_every_invariant(live_gunicorn, admin_token):
    product_id = _create_product("MIX-1", initial_stock=45)
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=20, location="east"))
    rng = random.Random(20261129)
    # Reservations placed beforehand, for the commits and releases to race on.
    placed = []
    for index in range(24):
        location = "east" if index % 4 == 0 else "main"
        reply = _reserve(
            live_gunicorn, admin_token, [{"product": product_id, "quantity": 1 + index % 3, "location": location}]
        )
        assert reply.status == 201, reply.body
        placed.append(reply.json()["id"])
    requests = [("commit", reservation_id) for reservation_id in placed[:12]]
    requests += [("release", reservation_id) for reservation_id in placed[12:]]
    requests += [("reserve", (rng.choice(["main", "east"]), rng.randint(1, 3))) for _ in range(30)]
    requests += [("sell", rng.choice(["main", "east"])) for _ in range(30)]
    requests += [("deliver", "main") for _ in range(5)]
    rng.shuffle(requests)

    def send(index):
        kind, target = requests[index]
        if kind in ("commit", "release"):
            return live_gunicorn.request("POST", f"/api/reservations/{target}/{kind}/", token=admin_token)
        if kind == "reserve":
            location, quantity = target
            lines = [{"product": product_id, "quantity": quantity, "location": location}]
            return _reserve(live_gunicorn, admin_token, lines, reference=f"mix-{index}")
        delta = -1 if kind == "sell" else 2
        return live_gunicorn.request(
            "POST", f"/api/products/{product_id}/stock/", {"delta": delta, "location": target}, token=admin_token
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(send, range(len(requests))))

    assert _unexpected(replies, {200, 201, 409}) == []
    outcome = Counter((kind, reply.status) for (kind, _), reply in zip(requests, replies, strict=True))
    # Nothing else touches the placed reservations: every commit and release succeeds.
    assert outcome[("commit", 200)] == 12 and outcome[("release", 200)] == 12, outcome
    assert {reply.json()["code"] for reply in replies if reply.status == 409} <= {"insufficient_stock"}
    assert outcome[("reserve", 201)] and outcome[("sell", 200)], outcome
    committed = ReservationLine.objects.filter(reservation_id__in=placed[:12]).aggregate(total=Sum("quantity"))["total"]
    sold = outcome[("sell", 200)]
    delivered = 2 * outcome[("deliver", 200)]
    stock = _stock(live_gunicorn, admin_token, product_id)
    assert stock["quantity"] == 65 - committed - sold + delivered
    assert stock["reserved"] == _held_now(product_id)
    assert stock["available"] == stock["quantity"] - stock["reserved"] >= 0
    for location in stock["locations"]:
        assert location["available"] == location["quantity"] - location["reserved"] >= 0, location
    assert StockMovement.objects.filter(product_id=product_id, reason="sale").count() == 12
    _check_every_location_keeps_the_invariants()
    _project()
    assert rebuild.differences() == []


def test_a_commit_and_a_release_racing_on_one_reservation_exactly_one_wins(live_gunicorn, admin_token):
    product_id = _create_product("END-1", initial_stock=100)
    winners = Counter()

    for race in range(12):
        reply = _reserve(live_gunicorn, admin_token, [{"product": product_id, "quantity": 2}], reference=f"end-{race}")
        assert reply.status == 201, reply.body
        reservation_id = reply.json()["id"]
        kinds = ["commit", "release"] if race % 2 else ["release", "commit"]
        replies = _run_together(
            2,
            lambda index, kinds=kinds, reservation_id=reservation_id: live_gunicorn.request(
                "POST", f"/api/reservations/{reservation_id}/{kinds[index]}/", token=admin_token
            ),
        )

        assert sorted(reply.status for reply in replies) == [200, 409], [(r.status, r.body) for r in replies]
        winner = kinds[[reply.status for reply in replies].index(200)]
        loser_reply = replies[[reply.status for reply in replies].index(409)]
        winners[winner] += 1
        status = {"commit": "committed", "release": "released"}[winner]
        assert loser_reply.json()["code"] == f"reservation_{status}"
        assert Reservation.objects.get(id=reservation_id).status == status
        sales = StockMovement.objects.filter(reference=f"end-{race}", reason="sale")
        assert list(sales.values_list("delta", flat=True)) == ([-2] if winner == "commit" else [])

    stock = _stock(live_gunicorn, admin_token, product_id)
    assert (stock["quantity"], stock["reserved"]) == (100 - 2 * winners["commit"], 0)
    _check_every_location_keeps_the_invariants()
    _project()
    assert rebuild.differences() == []


def test_reservations_batches_and_transfers_naming_two_products_in_either_order_keep_every_invariant(
    live_gunicorn, admin_token
):
    products = [_create_product("BOTH-A", initial_stock=60), _create_product("BOTH-B", initial_stock=60)]
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    deadlocks_before = _deadlocks()
    rng = random.Random(1129)
    requests = []
    for index in range(60):
        order = products if index % 2 else products[::-1]
        amounts = [rng.randint(1, 3) for _ in order]
        kind = ("reserve", "transfer", "batch")[index % 3]
        if kind == "reserve":
            body = {"lines": [{"product": p, "quantity": q} for p, q in zip(order, amounts, strict=True)]}
            requests.append(("/api/reservations/", body))
        elif kind == "transfer":
            lines = [{"product": p, "quantity": q} for p, q in zip(order, amounts, strict=True)]
            requests.append(("/api/stock/transfers/", {"from": "main", "to": "east", "lines": lines}))
        else:
            lines = [{"product": p, "delta": -q} for p, q in zip(order, amounts, strict=True)]
            requests.append(("/api/stock/adjustments/", {"lines": lines, "reason": "race"}))

    replies = _run_together(
        len(requests), lambda index: live_gunicorn.request("POST", *requests[index], token=admin_token)
    )

    assert _unexpected(replies, {200, 201, 409}) == []
    assert {reply.json()["code"] for reply in replies if reply.status == 409} <= {"insufficient_stock"}
    accepted = Counter(path for (path, _body), reply in zip(requests, replies, strict=True) if reply.status < 300)
    assert len(accepted) == 3, accepted  # each kind got through at least once
    removed = Counter()
    for (path, body), reply in zip(requests, replies, strict=True):
        if path == "/api/stock/adjustments/" and reply.status == 200:
            for line in body["lines"]:
                removed[line["product"]] -= line["delta"]
    for product_id in products:
        stock = _stock(live_gunicorn, admin_token, product_id)
        assert stock["quantity"] == 60 - removed[product_id]  # transfers keep the total
        assert stock["reserved"] == _held_now(product_id)
        for location in stock["locations"]:
            assert location["available"] == location["quantity"] - location["reserved"] >= 0, location
    log = live_gunicorn.log()
    _stop_and_flush_statistics(live_gunicorn)
    assert _deadlocks() == deadlocks_before
    assert "deadlock" not in log.lower()
    _check_every_location_keeps_the_invariants()
    _project()
    assert rebuild.differences() == []
