"""BulkImportProducts: the same writes, events and read rows as the row-by-row path, set-based."""

import contextlib
import dataclasses
import datetime
import io
import re
import types
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cqrs_demo.bus import bus
from products import events
from products.management.bulk_import import import_products_bulk
from products.management.csv_format import import_products
from products.read import worker
from products.read.models import ProductView
from products.read.rebuild import differences
from products.write import commands
from products.write.commands import bulk as bulk_module
from products.write.event_log import payload_of
from products.write.models import EventRecord, Product, StockMovement

pytestmark = pytest.mark.django_db
SPLIT = settings.CQRS_MODE == "split"
row_by_row_only = pytest.mark.skipif(SPLIT, reason="rolls back a savepoint the split-mode read store is not part of")

FILE = """sku,name,description,category,category_name,price,quantity
ht-001,Claw hammer,16 oz,hand-tools,,12.50,40
HT-002,Same,desc,hand-tools,,5.00,7
HT-003,Stock only,,,,2.00,9
PT-100,Cordless drill,18 V,power-tools,Power tools,89.90,8
PT-101,Impact driver,,power-tools,,99.00,
GN-001,Work gloves,,,,4.99,
GONE-1,Back again,,,,1.00,1
XX-1,Nowhere,,nowhere,,1.00,
XX-2,Too early,,later,,1.00,
XX-3,Names it,,later,Later,1.00,2
bad sku,Bad,,,,1.00,
"""
_VOLATILE = {"id", "product_id", "movement_id", "created_at", "updated_at"}


@pytest.fixture
def existing(make_product, archived_product):
    """The products and category FILE refers to before it is imported."""
    bus.dispatch(commands.CreateCategory(slug="hand-tools", name="Hand tools"))
    make_product(sku="HT-001", name="Old hammer", price=Decimal("10.00"), initial_stock=3, category="hand-tools")
    make_product(
        sku="HT-002", name="Same", description="desc", category="hand-tools", price=Decimal(5), initial_stock=7
    )
    make_product(sku="HT-003", name="Stock only", price=Decimal(2), initial_stock=1)


def _normalized(value):
    if isinstance(value, dict):
        return {key: "*" if key in _VOLATILE else _normalized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def write_state(after_event_id):
    """Return the write tables and the events after ``after_event_id``, keyed by SKU, ids and times left out."""
    products = {
        p["sku"]: p
        for p in Product.objects.values(
            "sku",
            "name",
            "description",
            "category__slug",
            "price",
            "reorder_point",
            "stock_levels__quantity",
            "version",
            "is_archived",
        )
    }
    ledger = {}
    for sku, delta, after, reason, location in StockMovement.objects.order_by("id").values_list(
        "product__sku", "delta", "quantity_after", "reason", "location__code"
    ):
        ledger.setdefault(sku, []).append((delta, after, reason, location))
    skus = dict(Product.objects.values_list("id", "sku"))
    logged = {}
    for record in EventRecord.objects.filter(id__gt=after_event_id).order_by("id"):
        key = skus.get(record.product_id, record.payload.get("slug"))
        logged.setdefault(key, []).append((record.type, _normalized(record.payload)))
    return products, ledger, logged


def ledger_mismatches():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.product_id FROM products_stocklevel s"
            " JOIN (SELECT product_id, sum(delta) AS total FROM products_stockmovement GROUP BY product_id) m"
            " USING (product_id) WHERE m.total <> s.quantity"
        )
        return cursor.fetchall()


def rows(count, prefix="B", quantity=5, category=None, category_name=None, location="main"):
    for number in range(count):
        sku, name = f"{prefix}-{number}", f"Product {number}"
        yield (number + 2, sku, name, "", category, category_name, "1.50", quantity, location)


def last_event_id():
    return EventRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0


@row_by_row_only
def test_bulk_writes_what_the_row_by_row_import_writes(existing):
    mark = last_event_id()
    with transaction.atomic():
        expected_report = import_products(io.StringIO(FILE))
        expected = write_state(mark)
        transaction.set_rollback(True)
    report = import_products_bulk(io.StringIO(FILE))
    assert write_state(mark) == expected
    assert report == expected_report
    assert (report.created, report.updated, report.unchanged) == (4, 2, 1)
    assert differences() == []
    assert ledger_mismatches() == []


@row_by_row_only
def test_with_main_inactive_bulk_refuses_the_rows_that_would_change_stock_as_row_by_row_does(existing):
    bus.dispatch(commands.ChangeLocation(code="main", is_active=False))
    mark = last_event_id()
    with transaction.atomic():
        expected_report = import_products(io.StringIO(FILE))
        expected = write_state(mark)
        transaction.set_rollback(True)
    report = import_products_bulk(io.StringIO(FILE))
    assert write_state(mark) == expected
    assert [(line, error) for line, error in report.errors] == [(line, error) for line, error in expected_report.errors]
    assert any("inactive" in error for _, error in report.errors)
    assert ledger_mismatches() == []


def test_event_payloads_are_what_the_event_log_renders(existing, monkeypatch):
    # A whole second: the payloads still show six digits of microseconds, in Python and in SQL.
    now = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(bulk_module, "timezone", types.SimpleNamespace(now=lambda: now))
    mark = last_event_id()
    source = (row for row in rows(3, category="new-cat", category_name="New"))
    updates = [(10, "HT-003", "Stock only", "", None, None, "2.00", 4)]  # stock only: one event
    bus.dispatch(commands.BulkImportProducts(rows=[*source, *updates]))
    records = list(EventRecord.objects.filter(id__gt=mark).order_by("id"))
    assert [r.type for r in records] == [
        "CategoryCreated",
        "ProductCreated",
        "ProductCreated",
        "ProductCreated",
        "StockSet",
    ]
    for record in records:
        event_type = events.by_name(record.type)
        event = event_type(**{f.name: record.payload[f.name] for f in dataclasses.fields(event_type)})
        if event_type is events.StockSet:  # rendered in SQL, as the stock commands do: their shape
            state = payload_of(events.ProductCreated(product_id=event.product_id))
            assert record.payload == {
                **dataclasses.asdict(event),
                "product": state["product"],
                "movement": state["movements"][-1],
            }
        else:
            assert record.payload == payload_of(event)
    assert records[-2].payload["product"]["created_at"] == "2026-12-01T09:30:00.000000Z"
    assert differences() == []


def test_loading_the_same_rows_again_changes_nothing(existing):
    bus.dispatch(commands.BulkImportProducts(rows=rows(50)))
    before = (last_event_id(), StockMovement.objects.count(), sorted(Product.objects.values_list("sku", "version")))
    result = bus.dispatch(commands.BulkImportProducts(rows=rows(50)))
    after = (last_event_id(), StockMovement.objects.count(), sorted(Product.objects.values_list("sku", "version")))
    assert after == before
    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 50, [])


def test_existing_skus_are_updated_regardless_of_case_and_absent_columns_left_alone(existing):
    hammer = Product.objects.get(sku="HT-001")
    result = bus.dispatch(
        commands.BulkImportProducts(
            rows=[(2, "ht-001", "Claw hammer XL", None, None, None, "13.00", 35)], columns=frozenset()
        )
    )
    assert (result.created, result.updated) == (0, 1)
    row = ProductView.objects.get(id=hammer.id)
    assert (row.sku, row.name, str(row.price), row.quantity, row.category_slug) == (
        "HT-001",
        "Claw hammer XL",
        "13.00",
        35,
        "hand-tools",
    )
    assert row.version == hammer.version + 2  # details, then stock: as the two commands would
    last = StockMovement.objects.filter(product_id=hammer.id).latest("id")
    assert (last.delta, last.quantity_after, last.reason) == (32, 35, "import")
    types_logged = list(EventRecord.objects.filter(product_id=hammer.id).order_by("id").values_list("type", flat=True))
    assert types_logged[-2:] == ["ProductDetailsUpdated", "StockSet"]
    assert differences() == []
    assert ledger_mismatches() == []


def test_a_sku_repeated_in_the_rows_is_applied_once_with_its_last_values():
    result = bus.dispatch(
        commands.BulkImportProducts(
            rows=[
                (2, "Dup-1", "First", "", None, None, "1.00", 4),
                (3, "DUP-1", "Second", "", None, None, "2.00", None),
                (4, "dup-1", "Third", "", None, None, "3.00", None),
            ]
        )
    )
    assert (result.created, result.updated, result.unchanged) == (1, 0, 0)
    product = Product.objects.get()
    assert (product.sku, product.name, product.price, product.stock_levels.get().quantity) == ("Dup-1", "Third", 3, 4)
    assert differences() == []


def test_new_products_get_time_ordered_ids_in_line_order_and_their_events_follow_that_order():
    mark = last_event_id()
    bus.dispatch(commands.BulkImportProducts(rows=rows(300, "T")))
    products = list(Product.objects.filter(sku__startswith="T-").order_by("id").values_list("id", "sku"))
    assert {product_id.version for product_id, _ in products} == {7}
    assert [sku for _, sku in products] == [f"T-{number}" for number in range(300)]
    created = EventRecord.objects.filter(id__gt=mark, type="ProductCreated").order_by("id")
    assert [event.payload["product"]["sku"] for event in created] == [f"T-{number}" for number in range(300)]
    assert ledger_mismatches() == []


@pytest.mark.manual_projection  # in split mode, the worker's reads of the log are not the command's
def test_the_number_of_statements_does_not_grow_with_the_rows(django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        bus.dispatch(commands.BulkImportProducts(rows=rows(10, "S", category="c", category_name="C")))
    with CaptureQueriesContext(connection) as large, django_assert_max_num_queries(59, connection=connection):
        bus.dispatch(commands.BulkImportProducts(rows=rows(1000, "L", category="c", category_name="C")))
    assert len(large) == len(small)
    assert Product.objects.count() == 1010
    assert ledger_mismatches() == []


@pytest.mark.skipif(
    not SPLIT, reason="split mode only: CQRS_TEST_SPLIT=1 scripts/test products/tests/write/commands/test_bulk.py"
)
@pytest.mark.manual_projection
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_split_mode_the_worker_applies_a_bulk_import():
    bus.dispatch(commands.BulkImportProducts(rows=rows(40, "SPLIT", category="split", category_name="Split")))
    assert not ProductView.objects.filter(sku__startswith="SPLIT-").exists()
    worker.run()
    assert ProductView.objects.filter(sku__startswith="SPLIT-").count() == 40
    assert differences() == []
    changed = [
        (2, "split-0", "Renamed", "", "split", None, "9.00", 1),
        (3, "SPLIT-1", "Product 1", "", "split", None, "1.50", 0),
    ]
    bus.dispatch(commands.BulkImportProducts(rows=changed))
    worker.run()
    assert ProductView.objects.get(sku="SPLIT-0").name == "Renamed"
    assert ProductView.objects.get(sku="SPLIT-1").quantity == 0
    assert differences() == []


# A statement the planner misjudges can join two sets by comparing every row of one with
# every row of the other: the import then takes hours instead of seconds on large files.
_EXPLAINABLE = re.compile(
    r"\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE\s+TEMP\s+TABLE\s+\S+\s+(ON\s+COMMIT\s+DROP\s+)?AS)\b"
)
# A plan node run more than this many times, reading more than this many rows each time.
_QUADRATIC = 100


@contextlib.contextmanager
def analyzed_plans():
    """Run each statement of the default connection under EXPLAIN ANALYZE first, undone, then for real.

    Yields the list of ``(sql, plan)`` it fills: the plans with the rows each node read, as the
    statement ran on the data it then ran on.
    """
    plans = []

    def explain_first(execute, sql, params, many, context):
        if not many and _EXPLAINABLE.match(sql) and ";" not in sql:
            raw = context["cursor"].cursor
            raw.execute("SAVEPOINT plan_check")
            raw.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params)
            plans.append((sql, raw.fetchone()[0][0]["Plan"]))
            raw.execute("ROLLBACK TO SAVEPOINT plan_check")
            raw.execute("RELEASE SAVEPOINT plan_check")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_first):
        yield plans


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _rows_read(node):
    """The rows ``node`` read per run (EXPLAIN gives them per loop): those it returned and those it dropped."""
    dropped = ("Rows Removed by Filter", "Rows Removed by Join Filter", "Rows Removed by Index Recheck")
    return node["Actual Rows"] + sum(node.get(key, 0) for key in dropped)


def seed_shaped_rows(count, prefix, quantity=0, renamed=False):
    """``count`` products as seed_products makes them: each at main, a third also at east, a quarter at west."""
    line = 1
    for number in range(count):
        sku, name = f"{prefix}-{number}", f"Product {number}{' v2' if renamed and number % 2 else ''}"
        category = f"{prefix.lower()}-{number % 8}"
        for location, every in (("main", 1), ("east", 3), ("west", 4)):
            if number % every == 0:
                line += 1
                yield (line, sku, name, "", category, category.title(), "1.50", 1 + (number + quantity) % 7, location)


def import_plans(count, prefix):
    """Import ``count`` new products at several locations, then change their details and stock.

    Reservations hold stock and a location is inactive for the second import, so its checks
    run. Returns the plans of both imports' statements.
    """
    with analyzed_plans() as plans:
        bus.dispatch(commands.BulkImportProducts(rows=seed_shaped_rows(count, prefix)))
    first = Product.objects.get(sku=f"{prefix}-0")
    bus.dispatch(commands.PlaceReservation(lines=(commands.ReservationLine(product_id=first.id, quantity=1),)))
    # Rows at the inactive location: those that would change the stock there are refused.
    closed = [
        (10 * count + number, f"{prefix}-{number}", "Closed", "", None, None, "1.50", number % 2, "closed")
        for number in range(count // 3)
    ]
    with analyzed_plans() as more:
        bus.dispatch(
            commands.BulkImportProducts(rows=[*seed_shaped_rows(count, prefix, quantity=3, renamed=True), *closed])
        )
    assert Product.objects.filter(sku__startswith=f"{prefix}-", version__gt=1).count() == count
    assert StockMovement.objects.filter(product__sku__startswith=f"{prefix}-", reason="import").exists()
    return plans + more


@pytest.mark.manual_projection  # split mode: the import's statements only, not the worker's
def test_no_statement_of_an_import_at_several_locations_compares_every_row_with_every_row():
    for code in ("east", "west", "closed"):
        bus.dispatch(commands.CreateLocation(code=code, name=code.title()))
    bus.dispatch(commands.ChangeLocation(code="closed", is_active=False))
    # Statistics the test sets (autovacuum may have left any): the write tables as they are
    # before the imports. The rows an import adds are in none until it commits.
    bus.dispatch(commands.BulkImportProducts(rows=seed_shaped_rows(300, "BASE")))
    with connection.cursor() as cursor:
        tables = "products_category, products_product, products_stocklevel, products_stockmovement, products_event"
        cursor.execute(f"ANALYZE {tables}" + ("" if SPLIT else ", read_product, read_stock_level, read_stock_movement"))
    read = {}
    for count, prefix in ((500, "Q"), (2000, "R")):
        with transaction.atomic():  # each size on the same tables as they were before
            plans = import_plans(count, prefix)
            transaction.set_rollback(True)
        quadratic = [
            (
                node["Node Type"],
                node.get("Relation Name", node.get("CTE Name")),
                node["Actual Loops"],
                _rows_read(node),
                " ".join(sql.split())[:120],
            )
            for sql, plan in plans
            for node in _nodes(plan)
            if node["Actual Loops"] > _QUADRATIC and _rows_read(node) > _QUADRATIC
        ]
        assert not quadratic, "\n".join(map(str, quadratic))
        read[count] = sum(node["Actual Loops"] * _rows_read(node) for _, plan in plans for node in _nodes(plan))
    # Four times the rows: about four times the rows read (all pairs: sixteen times).
    assert read[2000] / read[500] < 6


def test_new_products_with_stock_at_several_locations_are_written_once():
    for code in ("east", "west"):
        bus.dispatch(commands.CreateLocation(code=code, name=code.title()))
    mark = last_event_id()
    bus.dispatch(commands.BulkImportProducts(rows=seed_shaped_rows(30, "ONCE")))
    # Rows this transaction (the test's) updated, per table: none of the new products' rows,
    # nor (single-database mode) their read rows, is written a second time.
    tables = ["products_product", *([] if SPLIT else ["read_product", "read_stock_level"])]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)", [tables])
        assert dict(cursor.fetchall()) == dict.fromkeys(tables, 0)
    # Each still at the version its events show: 1 as created, then + 1 per StockSet.
    products = Product.objects.filter(sku__startswith="ONCE-")
    assert {p.sku: p.version for p in products} == {
        p.sku: 1 + EventRecord.objects.filter(id__gt=mark, product_id=p.id, type="StockSet").count() for p in products
    }
    assert {p.version for p in products} == {1, 2, 3}
    assert differences() == []


@pytest.mark.parametrize("text", ["tab\there", "two\nlines", "back\\slash", "\\N", "carriage\rreturn", "plain"])
def test_cells_that_copy_must_escape_arrive_as_they_were_sent(text):
    # One such cell among plain rows: the chunk it is in is escaped, the others are not.
    plain = list(rows(3, "ESC"))
    odd = (10, "ESC-odd", f"Name {text}", text, None, None, "1.00", 1, "main")
    bus.dispatch(commands.BulkImportProducts(rows=[*plain, odd]))
    product = Product.objects.get(sku="ESC-odd")
    assert (product.name, product.description) == (f"Name {text}", text)
    assert Product.objects.filter(sku__startswith="ESC-").count() == 4
