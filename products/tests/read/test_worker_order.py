"""No global lock, and no transaction holds another back: commands on different products
commit side by side, the worker applies each as soon as it commits, in commit order, and
every event once; a transaction open elsewhere on the server delays nothing.

Deterministic: the transactions are held open and released by the test, never timed.
"""

import threading
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from cqrs_demo.bus import bus
from products.read import rebuild, worker
from products.read.models import ProductView
from products.tests.support import database_url
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


def test_a_commit_beside_an_open_transaction_applies_at_once_and_the_open_one_once_it_commits(two_products):
    a, b = two_products
    held = HeldAdjustment(a).start()  # A's transaction has its id first, and stays open
    try:
        bus.dispatch(commands.AdjustStock(product_id=b, delta=-2))  # commits beside A: no lock wait
        assert worker.run() == 1  # B's commit does not wait for A's
        assert _quantities(a, b) == [10, 8]
    finally:
        held.end()
    assert worker.run() == 1
    assert _quantities(a, b) == [9, 8]
    assert worker.run() == 0  # nothing applied twice
    assert rebuild.differences() == []


def test_commits_apply_in_commit_order_whatever_order_their_transactions_began(two_products):
    a, b = two_products
    first = HeldAdjustment(b).start()  # B's transaction has its id first
    second = HeldAdjustment(a).start()  # then A's; both stay open, neither waits for the other
    second.end()  # A commits first
    assert worker.run() == 1
    assert _quantities(a, b) == [9, 10]
    first.end()
    assert worker.run() == 1
    assert _quantities(a, b) == [9, 9]
    assert worker.run() == 0
    assert rebuild.differences() == []


def test_a_rolled_back_transaction_applies_nothing_and_holds_back_nothing(two_products):
    a, b = two_products
    held = HeldAdjustment(a).start()
    try:
        bus.dispatch(commands.AdjustStock(product_id=b, delta=-2))
        assert worker.run() == 1
    finally:
        held.end(rollback=True)
    assert worker.run() == 0
    assert _quantities(a, b) == [10, 8]
    assert rebuild.differences() == []


def test_a_write_transaction_open_in_another_database_delays_no_projection(two_products):
    a, b = two_products
    # A transaction that wrote, in another database of the same server, left open while
    # commands commit and the worker runs (a migration, an import, an idle psql session).
    other = psycopg2.connect(database_url(connections["default"].settings_dict, name="postgres"))
    try:
        with other.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE held_open (n int)")
            other.commit()
            cursor.execute("INSERT INTO held_open VALUES (1)")
            cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
            assert cursor.fetchone()[0]  # it holds a transaction id: the old reader waited for it
        bus.dispatch(commands.AdjustStock(product_id=a, delta=-3))
        bus.dispatch(commands.AdjustStock(product_id=b, delta=-4))
        assert worker.run() == 2
        assert _quantities(a, b) == [7, 6]
        assert other.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS  # still open
    finally:
        other.close()
    assert worker.run() == 0
    assert rebuild.differences() == []
