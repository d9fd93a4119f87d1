"""No global lock: commands on different products commit side by side, and the worker still
applies every event once, never one of a transaction that may still add an event before it.

Deterministic: the transactions are held open and released by the test, never timed.
"""

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from cqrs_demo.bus import bus
from products.read import rebuild, worker
from products.read.models import ProductView
from products.write import commands

# A command that waited for another's lock would fail with LockNotAvailable after this long.
LOCK_TIMEOUT = "SET lock_timeout = '10s'"
WAIT = 30  # seconds; only bounds a test that would otherwise hang

pytestmark = [
    pytest.mark.skipif(
        settings.CQRS_MODE != "split", reason="split mode only: `scripts/test` runs it in its split-mode pass"
    ),
    pytest.mark.manual_projection,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]


class HeldAdjustment:
    """Adjust a product's stock in a transaction of another connection, held open until released."""

    def __init__(self, product_id):
        self.product_id = product_id
        self.holding, self.release = threading.Event(), threading.Event()
        self.error, self.rollback = None, False
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(LOCK_TIMEOUT)  # a wait for another's lock fails the test, not hangs it
                bus.dispatch(commands.AdjustStock(product_id=self.product_id, delta=-1))
                self.holding.set()
                self.release.wait()
                transaction.set_rollback(self.rollback)
        except Exception as error:  # reported by end()
            self.error = error
            self.holding.set()
        finally:
            connection.close()

    def start(self):
        self.thread.start()
        assert self.holding.wait(WAIT), "the transaction never got to hold its change"
        assert self.error is None, self.error
        return self

    def end(self, *, rollback=False):
        self.rollback = rollback
        self.release.set()
        self.thread.join()
        assert self.error is None, self.error


def _quantities(*product_ids):
    return [ProductView.objects.get(id=product_id).quantity for product_id in product_ids]


@pytest.fixture
def no_lock_waits():
    """Make a wait for a lock fail after a while on the test's connection, rather than hang."""
    with connections["default"].cursor() as cursor:
        cursor.execute(LOCK_TIMEOUT)
    yield
    with connections["default"].cursor() as cursor:
        cursor.execute("RESET lock_timeout")


@pytest.fixture
def two_products(no_lock_waits):
    ids = [
        bus.dispatch(commands.CreateProduct(sku=f"ORD-{n}", name=f"Order {n}", price=Decimal(1), initial_stock=10))[
            "id"
        ]
        for n in range(2)
    ]
    worker.run()
    return ids


def test_a_commit_behind_an_open_transaction_waits_for_it_then_both_apply(two_products):
    a, b = two_products
    held = HeldAdjustment(a).start()  # A's transaction has its id first, and stays open
    try:
        bus.dispatch(commands.AdjustStock(product_id=b, delta=-2))  # commits beside A: no lock wait
        assert worker.run() == 0  # B's event sits behind A's transaction, which may still add one
        assert _quantities(a, b) == [10, 10]
    finally:
        held.end()
    assert worker.run() == 2
    assert _quantities(a, b) == [9, 8]
    assert rebuild.differences() == []


def test_a_commit_ahead_of_an_open_transaction_applies_at_once_and_the_later_one_after(two_products):
    a, b = two_products
    first = HeldAdjustment(b).start()  # B's transaction has its id first
    second = HeldAdjustment(a).start()  # then A's; both stay open, neither waits for the other
    try:
        first.end()  # B commits while A is still open
        assert worker.run() == 1
        assert _quantities(a, b) == [10, 9]
    finally:
        second.end()
    assert worker.run() == 1
    assert _quantities(a, b) == [9, 9]
    assert worker.run() == 0  # nothing applied twice
    assert rebuild.differences() == []


def test_a_rolled_back_transaction_holds_back_nothing_once_it_ends(two_products):
    a, b = two_products
    held = HeldAdjustment(a).start()
    try:
        bus.dispatch(commands.AdjustStock(product_id=b, delta=-2))
        assert worker.run() == 0
    finally:
        held.end(rollback=True)
    assert worker.run() == 1
    assert _quantities(a, b) == [10, 8]
    assert rebuild.differences() == []
