"""Concurrent requests against a real gunicorn (three worker processes) and PostgreSQL:
stock never oversells, no update is lost, and one ETag lets exactly one writer through."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db.models import Sum

from cqrs_demo.bus import bus
from products.read import rebuild
from products.read.models import ProductView
from products.write import commands
from products.write.models import EventRecord, Product, StockLevel, StockMovement

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _create_product(sku, initial_stock):
    return bus.dispatch(
        commands.CreateProduct(sku=sku, name=f"Product {sku}", price=Decimal("5.00"), initial_stock=initial_stock)
    )["id"]


def _ledger_sum(product_id):
    return StockMovement.objects.filter(product_id=product_id).aggregate(total=Sum("delta"))["total"]


def _run_together(count, send):
    """Call ``send(i)`` for i in range(count) from ``count`` threads released at once."""
    barrier = threading.Barrier(count)

    def task(index):
        barrier.wait(timeout=30)
        return send(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_forty_concurrent_sales_of_twenty_five_items_never_oversell(live_gunicorn, admin_token):
    product_id = _create_product("RACE-1", initial_stock=25)
    path = f"/api/products/{product_id}/stock/"

    replies = _run_together(40, lambda _: live_gunicorn.request("POST", path, {"delta": -1}, token=admin_token))

    statuses = Counter(reply.status for reply in replies)
    assert statuses == {200: 25, 409: 15}, [(r.status, r.body[:200]) for r in replies if r.status not in (200, 409)]
    assert {reply.json()["code"] for reply in replies if reply.status == 409} == {"insufficient_stock"}
    assert StockLevel.objects.get(product_id=product_id).quantity == 0
    assert _ledger_sum(product_id) == 0
    assert StockMovement.objects.filter(product_id=product_id).count() == 1 + 25
    assert rebuild.differences() == []


def test_two_hundred_concurrent_random_adjustments_lose_no_update(live_gunicorn, admin_token):
    initial = 10
    product_id = _create_product("RACE-2", initial_stock=initial)
    path = f"/api/products/{product_id}/stock/"
    rng = random.Random(20240501)
    # Sales outweigh deliveries, so the stock keeps hitting zero and some sales are refused.
    deltas = [rng.randint(-5, -1) if rng.random() < 0.6 else rng.randint(1, 5) for _ in range(200)]

    def send(index):
        return live_gunicorn.request("POST", path, {"delta": deltas[index], "reason": f"r{index}"}, token=admin_token)

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(send, range(len(deltas))))

    unexpected = [(r.status, r.body[:200]) for r in replies if r.status not in (200, 409)]
    assert unexpected == []
    accepted = [delta for delta, reply in zip(deltas, replies, strict=True) if reply.status == 200]
    refused = [delta for delta, reply in zip(deltas, replies, strict=True) if reply.status == 409]
    assert accepted and refused, "the run should both accept and refuse changes"
    assert all(delta < 0 for delta in refused)
    quantity = StockLevel.objects.get(product_id=product_id).quantity
    assert quantity == initial + sum(accepted)
    assert _ledger_sum(product_id) == quantity
    # Each accepted request left exactly one ledger row with its own delta, and no refused one did.
    recorded = Counter(
        StockMovement.objects.filter(product_id=product_id)
        .exclude(reason="initial stock")
        .values_list("reason", "delta")
    )
    assert recorded == Counter(
        (f"r{i}", d) for i, (d, r) in enumerate(zip(deltas, replies, strict=True)) if r.status == 200
    )
    assert Product.objects.get(id=product_id).version == 1 + len(accepted)
    assert ProductView.objects.get(id=product_id).quantity == quantity
    assert rebuild.differences() == []


def test_two_writers_holding_the_same_etag_exactly_one_wins(live_gunicorn, admin_token):
    product_id = _create_product("RACE-3", initial_stock=0)
    path = f"/api/products/{product_id}/"

    for race in range(10):
        version = Product.objects.get(id=product_id).version
        names = [f"race {race} writer {writer}" for writer in range(2)]
        replies = _run_together(
            2,
            lambda writer, names=names, version=version: live_gunicorn.request(
                "PATCH", path, {"name": names[writer]}, token=admin_token, headers={"If-Match": f'"{version}"'}
            ),
        )

        assert sorted(reply.status for reply in replies) == [200, 412], [(r.status, r.body) for r in replies]
        winner, loser = sorted(range(2), key=lambda writer: replies[writer].status)
        assert replies[loser].json()["code"] == "version_mismatch"
        assert replies[winner].headers["etag"] == f'"{version + 1}"'
        product = Product.objects.get(id=product_id)
        assert (product.version, product.name) == (version + 1, names[winner])

    assert rebuild.differences() == []


def test_concurrent_renames_back_and_forth_lose_no_change_and_skip_only_true_no_ops(live_gunicorn, admin_token):
    """A change of nothing is skipped, and only then: each writer's answer holds the name it sent.

    Writers alternate between two names, so about half of them find the product already so named
    (a no-op: no version, no event) and the others change it. A writer that compared with a value
    older than the last committed change would skip a real change and answer the other name.
    """
    product_id = _create_product("RACE-4", initial_stock=0)
    path = f"/api/products/{product_id}/"
    names = ["left", "right"]
    for _ in range(5):
        replies = _run_together(
            12,
            lambda writer: live_gunicorn.request("PATCH", path, {"name": names[writer % 2]}, token=admin_token),
        )
        assert [reply.status for reply in replies] == [200] * 12, [(r.status, r.body[:200]) for r in replies]
        assert [reply.json()["name"] for reply in replies] == [names[writer % 2] for writer in range(12)]
    updates = EventRecord.objects.filter(product_id=product_id, type="ProductDetailsUpdated").count()
    assert 0 < updates <= 60
    assert Product.objects.get(id=product_id).version == 1 + updates
    assert rebuild.differences() == []
