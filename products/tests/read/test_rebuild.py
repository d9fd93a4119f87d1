"""The rebuild by swap, and the streamed verify, against PostgreSQL (in both modes).

Concurrency is made deterministic with the rebuild's ``progress`` callback, which runs in
the rebuild's thread after each step: the test pauses the rebuild there (while it fills
and indexes, or while it holds the swap's locks) and looks at it from other connections.
A reader that must not wait gets a ``lock_timeout``, so a wrong wait fails instead of hanging.
"""

import io
import threading
import time
import uuid
from decimal import Decimal

import psycopg2
import pytest
from django.core.management import call_command
from django.db import OperationalError, connections

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.read import rebuild, swap, worker
from products.read.models import CategoryView, ProductView, StockMovementView
from products.read.tables import READ_TABLES
from products.tests.conftest import SPLIT
from products.write import commands

WAIT = 30  # seconds a test waits for the rebuild's thread to reach a step before it fails

_CATALOG_SQL = """
    SELECT 'index' AS kind, tablename AS table, indexname AS name, indexdef AS definition
      FROM pg_indexes WHERE tablename = ANY(%(tables)s)
    UNION ALL
    SELECT 'constraint', conrelid::regclass::text, conname, contype::text || ' ' || pg_get_constraintdef(oid)
      FROM pg_constraint WHERE conrelid::regclass::text = ANY(%(tables)s)
    ORDER BY 1, 2, 3
"""


def catalog():
    """Every index and constraint of the read tables, with its name and definition."""
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute(_CATALOG_SQL, {"tables": [table.name for table in READ_TABLES]})
        return cursor.fetchall()


def reader(lock_timeout="0"):
    """Open a second connection to the read store, as an API reader would be."""
    wrapper = connections[read_store_alias()]
    connection = wrapper.get_new_connection(wrapper.get_connection_params())
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
    connection.commit()
    return connection


def wait_for_a_lock_wait():
    """Return once some session of the test database waits for a lock (fail after WAIT seconds)."""
    deadline = time.monotonic() + WAIT
    with connections[read_store_alias()].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    pytest.fail("nothing ever waited for a lock")


def read_name(connection, product_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM read_product WHERE id = %s", [str(product_id)])
        return cursor.fetchone()[0]


class PausedRebuild:
    """Run ``rebuild_all`` in a thread that stops after the step ``pause_at`` until resumed."""

    def __init__(self, pause_at, **options):
        self.pause_at, self.options = pause_at, options
        self.paused, self.resumed = threading.Event(), threading.Event()
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run)

    def _progress(self, step, total, label, result):
        if label == self.pause_at:
            self.paused.set()
            assert self.resumed.wait(WAIT), "the test never resumed the rebuild"

    def _run(self):
        try:
            self.result = rebuild.rebuild_all(progress=self._progress, **self.options)
        except Exception as error:  # handed to the test by finish()
            self.error = error
        finally:
            self.paused.set()
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.paused.wait(WAIT), f"the rebuild never reached {self.pause_at}"
        return self

    def finish(self):
        self.resumed.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the rebuild did not finish"
        if self.error:
            raise self.error
        return self.result

    def __exit__(self, *exc):
        self.resumed.set()
        self.thread.join(WAIT)


@pytest.fixture
def drifted(make_product):
    """A product whose read row was changed behind the projector's back: name 'Old'."""
    product_id = make_product(name="New")
    make_product()
    ProductView.objects.filter(id=product_id).update(name="Old")
    return product_id


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_keeps_every_index_and_constraint_under_its_canonical_name(make_product):
    make_product(initial_stock=3)
    before = catalog()
    assert any(name == "read_search_document" for _, _, name, _ in before)  # the GIN index
    rebuild.rebuild_all()
    assert catalog() == before
    leftovers = [row for row in catalog() if swap.SUFFIX in row[2] or swap.SUFFIX in row[1]]
    assert leftovers == []
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_swaps_in_new_tables_equal_to_the_write_tables(drifted):
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute("SELECT 'read_product'::regclass::oid")
        (old_table,) = cursor.fetchone()
    assert rebuild.differences() != []
    counts = rebuild.rebuild_all()
    assert counts["products"] == 2
    assert rebuild.differences() == []
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute("SELECT 'read_product'::regclass::oid")
        assert cursor.fetchone()[0] != old_table


@pytest.mark.django_db(transaction=True)
def test_readers_keep_the_old_rows_without_waiting_while_the_rebuild_fills_and_indexes(drifted):
    other = reader(lock_timeout="5s")  # far longer than any read; only a wrong wait reaches it
    try:
        for step in ("products", "indexes", "analyze"):
            with PausedRebuild(step) as paused:
                assert read_name(other, drifted) == "Old"
                other.commit()
                paused.finish()
            assert read_name(other, drifted) == "New"
            other.commit()
            ProductView.objects.filter(id=drifted).update(name="Old")
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_readers_wait_during_the_swap_only(drifted):
    other = reader(lock_timeout="100ms")
    try:
        with PausedRebuild("swap") as paused:
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                read_name(other, drifted)
            other.rollback()
            paused.finish()
        assert read_name(other, drifted) == "New"
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_repeatable_read_reader_keeps_the_old_rows_until_it_ends(drifted, monkeypatch):
    monkeypatch.setattr(swap, "LOCK_TIMEOUT", "20ms")
    other = reader()
    other.set_session(isolation_level="REPEATABLE READ")
    try:
        assert read_name(other, drifted) == "Old"  # its snapshot, and a lock on the old table
        # The swap cannot take the old table from the reader: it gives up after its attempts.
        with PausedRebuild("analyze", lock_attempts=3) as paused, pytest.raises(OperationalError) as refused:
            paused.finish()
        assert isinstance(refused.value.__cause__, psycopg2.errors.LockNotAvailable)
        assert read_name(other, drifted) == "Old"
        # With unbounded attempts it swaps as soon as the reader ends.
        with PausedRebuild("analyze") as paused:
            paused.resumed.set()
            assert read_name(other, drifted) == "Old"
            other.commit()
            counts = paused.finish()
        assert counts["swap"] >= 1
        assert read_name(other, drifted) == "New"
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_write_during_the_rebuild_reaches_the_new_tables(make_product):
    product_id = make_product(initial_stock=1)
    done = []

    def sell():
        try:
            done.append(bus.dispatch(commands.AdjustStock(product_id=product_id, delta=4)))
        finally:
            connections.close_all()

    with PausedRebuild("indexes") as paused:
        writer = threading.Thread(target=sell)
        writer.start()
        # Its projection waits for the rebuild: on the old tables' lock, or, in split mode, the
        # worker (run after the command by the split-mode fixture) on its position's, which the
        # rebuild holds from before its snapshot to the swap.
        wait_for_a_lock_wait()
        paused.finish()
        writer.join(WAIT)
    assert done and done[0]["quantity"] == 5
    if SPLIT:
        assert worker.run() == 0  # applied once, after the swap, past the rebuild's snapshot
    assert ProductView.objects.get(id=product_id).quantity == 5
    assert rebuild.differences() == []


@pytest.fixture
def scattered_differences(make_category, make_product):
    """Differences of every kind in every table, spread over many chunks of 2 rows."""
    category = make_category()
    ids = sorted(make_product(category=category, initial_stock=1) for _ in range(9))
    wrong, missing = ids[1], ids[6]
    ProductView.objects.filter(id=wrong).update(price=Decimal("1.23"), quantity=77)
    ProductView.objects.filter(id=missing).delete()
    extra = ProductView.objects.get(id=ids[3])
    extra.id, extra.sku = uuid.uuid4(), "GHOST-1"
    extra.save(force_insert=True)
    StockMovementView.objects.filter(product_id=ids[8]).delete()
    CategoryView.objects.filter(slug=category).update(name="Renamed behind its back")
    return {
        ("read_category", category, "wrong", ("name",)),
        ("read_product", str(wrong), "wrong", ("price", "quantity")),
        ("read_product", str(missing), "missing", ()),
        ("read_product", str(extra.id), "extra", ()),
        ("read_stock_movement", None, "missing", ()),
    }


def _shape(found):
    return {(d.table, None if d.table == "read_stock_movement" else d.key, d.kind, d.fields) for d in found}


@pytest.mark.django_db
def test_verify_finds_every_kind_of_difference_across_chunk_boundaries(scattered_differences):
    small, large = rebuild.differences(chunk_size=2), rebuild.differences(chunk_size=10_000)
    assert small == large
    assert _shape(small) == scattered_differences
    products = [d.key for d in small if d.table == "read_product"]
    assert len(products) == 3


@pytest.mark.django_db
def test_verify_command_repairs_in_chunks(scattered_differences):
    out = io.StringIO()
    with pytest.raises(Exception, match="5 difference"):
        call_command("verify_read_models", "--chunk-size", "2", stdout=out)
    assert out.getvalue().count(": ") == 5
    out = io.StringIO()
    call_command("verify_read_models", "--repair", "--chunk-size", "2", stdout=out)
    assert "Repaired 5" in out.getvalue()
    assert rebuild.differences() == []
