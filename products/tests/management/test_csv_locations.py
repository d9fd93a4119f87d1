"""The CSV's location column: export a row per product and location, import them at their
location, row by row and in bulk alike; re-importing an export changes nothing."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.read.rebuild import differences
from products.write import commands
from products.write.models import EventRecord, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db
BOTH_PATHS = pytest.mark.parametrize("mode", ["--bulk", "--no-bulk"])


def run(*args):
    """Run a command; return (stdout lines, the CommandError message or None)."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return out.getvalue().splitlines(), str(error)
    return out.getvalue().splitlines(), None


def write_csv(tmp_path, text):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def levels():
    return sorted(StockLevel.objects.values_list("product__sku", "location__code", "quantity"))


def log_marks():
    return (
        EventRecord.objects.count(),
        StockMovement.objects.count(),
        sorted(Product.objects.values_list("sku", "version")),
    )


@pytest.fixture
def two_locations(make_product):
    """Products with stock at main and east, one at main only, one with its only stock row at east."""
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    bus.dispatch(commands.CreateLocation(code="west", name="West"))
    hammer = make_product(sku="HT-001", name="Claw hammer", initial_stock=40)
    bus.dispatch(commands.AdjustStock(product_id=hammer, delta=3, location="east"))
    make_product(sku="HT-002", name="Mallet", description='Rubber, "soft"', initial_stock=0)
    drill = make_product(sku="PT-100", name="Drill", initial_stock=5)
    bus.dispatch(commands.SetStock(product_id=drill, quantity=0))
    bus.dispatch(commands.SetStock(product_id=drill, quantity=8, location="west"))


def export(tmp_path):
    path = tmp_path / "out.csv"
    run("export_products", str(path))
    return path, list(csv.DictReader(path.open(encoding="utf-8")))


def test_export_writes_a_row_per_product_and_location_main_first(tmp_path, two_locations):
    _, rows = export(tmp_path)
    assert list(rows[0]) == ["sku", "name", "description", "category", "category_name", "price", "location", "quantity"]
    assert [(row["sku"], row["location"], row["quantity"]) for row in rows] == [
        ("HT-001", "main", "40"),
        ("HT-001", "east", "3"),
        ("HT-002", "main", "0"),
        ("PT-100", "main", "0"),
        ("PT-100", "west", "8"),
    ]
    assert rows[0]["name"] == rows[1]["name"] == "Claw hammer"  # the product's columns repeat


def test_a_product_without_stock_rows_is_exported_once_at_main_with_an_empty_quantity(tmp_path, two_locations):
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute(
            "DELETE FROM read_stock_level WHERE product_id = (SELECT id FROM read_product WHERE sku = 'HT-002')"
        )
    _, rows = export(tmp_path)
    assert [(row["location"], row["quantity"]) for row in rows if row["sku"] == "HT-002"] == [("main", "")]


@BOTH_PATHS
def test_importing_an_export_with_two_locations_again_changes_nothing(tmp_path, two_locations, mode):
    path, _ = export(tmp_path)
    before, stock = log_marks(), levels()
    lines, error = run("import_products", str(path), mode)
    unchanged = 3 if mode == "--bulk" else 5  # bulk counts products, row by row counts rows
    assert error is None and f"0 were created, 0 updated, {unchanged} unchanged, 0 rejected" in lines[-1]
    assert log_marks() == before  # no event, no ledger row, no version bump
    assert levels() == stock


@BOTH_PATHS
def test_rows_set_the_stock_at_their_location_and_details_follow_the_last_row(tmp_path, two_locations, mode):
    path = write_csv(
        tmp_path,
        "sku,name,price,location,quantity\n"
        "HT-001,Claw hammer,9.99,east,7\n"
        "HT-001,Claw hammer v2,9.99,,38\n"  # blank: main
        "NEW-1,New,1.00,west,4\n"
        "NEW-1,New,1.00,main,2\n",
    )
    lines, error = run("import_products", path, mode)
    assert error is None, lines
    stock = {(sku, code): quantity for sku, code, quantity in levels()}
    assert (stock["HT-001", "main"], stock["HT-001", "east"]) == (38, 7)
    assert (stock["NEW-1", "main"], stock["NEW-1", "west"]) == (2, 4)
    assert Product.objects.get(sku="HT-001").name == "Claw hammer v2"
    assert differences() == []


def test_unknown_and_inactive_locations_are_reported_by_line_alike_in_both_paths(tmp_path, two_locations):
    bus.dispatch(commands.ChangeLocation(code="west", is_active=False))
    path = write_csv(
        tmp_path,
        "sku,name,price,location,quantity\n"
        "HT-001,Claw hammer,9.99,north,1\n"  # unknown: refused whatever its quantity
        "HT-002,Mallet,9.99,north,\n"
        "PT-100,Drill,9.99,west,8\n"  # inactive, but nothing changes there: fine
        "PT-100,Drill,9.99,west,9\n"  # inactive: takes no new stock
        "NEW-1,New,1.00,west,4\n"
        "NEW-2,New,1.00,Bad Code,4\n"
        "NEW-3,Fine,1.00,east,4\n",
    )
    with transaction.atomic():
        expected = run("import_products", path, "--no-bulk"), levels()
        transaction.set_rollback(True)
    got = run("import_products", path, "--bulk"), levels()
    assert got == expected
    (lines, error), stock = got
    assert lines == [
        "line 2: location: Location 'north' does not exist.",
        "line 3: location: Location 'north' does not exist.",
        "line 5: location: Location 'west' is inactive: an inactive location takes no new stock.",
        "line 6: location: Location 'west' is inactive: an inactive location takes no new stock.",
        "line 7: location: This value does not match the required pattern.",
    ]
    assert error == "1 were created, 0 updated, 1 unchanged, 5 rejected."
    assert ("NEW-3", "east", 4) in stock
    assert not Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).exists()


def test_a_row_below_what_reservations_hold_there_is_refused_alike_in_both_paths(tmp_path, two_locations):
    hammer = Product.objects.get(sku="HT-001").id
    line = commands.ReservationLine(product_id=hammer, quantity=30, location="main")
    bus.dispatch(commands.PlaceReservation(lines=(line,), expires_in=600))
    path = write_csv(
        tmp_path,
        "sku,name,price,location,quantity\n"
        "HT-001,Claw hammer,9.99,main,29\n"  # 30 held at main
        "HT-001,Claw hammer,9.99,east,1\n"  # nothing held at east
        "PT-100,Drill,9.99,main,3\n",
    )
    with transaction.atomic():
        expected = run("import_products", path, "--no-bulk"), levels()
        transaction.set_rollback(True)
    got = run("import_products", path, "--bulk"), levels()
    assert got == expected
    (lines, _error), stock = got
    assert lines == ["line 2: Reservations hold 30 at main; the stock cannot be set to 29."]
    assert {(sku, code): quantity for sku, code, quantity in stock}["HT-001", "main"] == 40
    assert ("HT-001", "east", 1) in stock and ("PT-100", "main", 3) in stock
    # At or above what is held, the count is taken.
    path = write_csv(tmp_path, "sku,name,price,location,quantity\nHT-001,Claw hammer,9.99,main,30\n")
    assert run("import_products", path, "--bulk")[1] is None
    assert StockLevel.objects.get(product__sku="HT-001", location__code="main").quantity == 30
