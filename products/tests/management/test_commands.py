"""The operators' management commands, run as `manage.py` runs them."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_store_alias
from products.read.models import CategoryView, ProductView
from products.read.rebuild import differences
from products.write import commands
from products.write.models import Product, StockLevel, StockMovement

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_products.csv"

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write_csv(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_seed_products_creates_products_through_handlers():
    output = run("seed_products", "--count", "30", "--categories", "3", "--batch-size", "7", "--seed", "1")
    assert "Created 30 products in 3 categories" in output
    assert Product.objects.count() == 30
    assert ProductView.objects.count() == 30
    assert CategoryView.objects.count() == 3
    assert StockMovement.objects.count() == 30  # every product's opening ledger row
    assert differences() == []


def test_seed_products_twice_adds_more_products():
    run("seed_products", "--count", "5", "--categories", "2")
    run("seed_products", "--count", "5", "--categories", "2")
    assert Product.objects.count() == 10


def test_seed_products_rejects_a_negative_count():
    with pytest.raises(CommandError):
        run("seed_products", "--count", "-1")


def test_import_sample_file_creates_products_and_categories():
    output = run("import_products", str(SAMPLE))
    assert "5 were created, 0 updated, 0 unchanged, 0 rejected" in output
    hammer = ProductView.objects.get(sku="HT-001")
    assert (hammer.category_slug, hammer.category_name, hammer.quantity) == ("hand-tools", "Hand tools", 40)
    assert ProductView.objects.get(sku="GN-001").category_slug is None
    assert differences() == []


def test_import_same_file_twice_changes_nothing():
    run("import_products", str(SAMPLE))
    versions = dict(Product.objects.values_list("sku", "version"))
    movements = StockMovement.objects.count()
    output = run("import_products", str(SAMPLE))
    assert "0 were created, 0 updated, 5 unchanged, 0 rejected" in output
    assert dict(Product.objects.values_list("sku", "version")) == versions
    assert StockMovement.objects.count() == movements


def test_import_updates_by_sku_regardless_of_case_and_records_recount(tmp_path):
    run("import_products", str(SAMPLE))
    path = write_csv(tmp_path, "sku,name,price,quantity\nht-001,Claw hammer XL,13.00,35\n")
    output = run("import_products", path)
    assert "0 were created, 1 updated" in output
    hammer = ProductView.objects.get(sku="HT-001")
    assert (hammer.name, str(hammer.price), hammer.quantity) == ("Claw hammer XL", "13.00", 35)
    last = StockMovement.objects.filter(product_id=hammer.id).latest("id")
    assert (last.delta, last.quantity_after, last.reason) == (-5, 35, "import")
    # Columns absent from the file are left alone.
    assert hammer.category_slug == "hand-tools"


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path):
    path = write_csv(
        tmp_path,
        "sku,name,price,quantity,category\n"
        "OK-1,Good,1.00,3,\n"
        "bad sku,Bad,1.00,,\n"
        "OK-2,Negative,-1,,\n"
        '"OK-3","Multi\nline name",2.00,,\n'
        "OK-4,Unknown category,1.00,,nowhere\n"
        "OK-5,Too much,1.00,1000000001,\n"
        "OK-6,Fine,2.50,,\n",
    )
    with pytest.raises(CommandError, match="3 were created, 0 updated, 0 unchanged, 4 rejected"):
        out = io.StringIO()
        call_command("import_products", path, stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("line 3: sku:")
    assert lines[1].startswith("line 4: price:")
    # The quoted two-line row (lines 5-6) is valid, so the next row starts on line 7.
    assert lines[2].startswith("line 7: category:")
    assert lines[3].startswith("line 8: quantity:")
    assert set(ProductView.objects.values_list("sku", flat=True)) == {"OK-1", "OK-3", "OK-6"}


def test_import_dry_run_changes_nothing(tmp_path):
    output = run("import_products", str(SAMPLE), "--dry-run")
    assert "5 would be created" in output
    assert Product.objects.count() == 0
    assert ProductView.objects.count() == 0


def test_import_refuses_a_file_with_unknown_columns(tmp_path):
    path = write_csv(tmp_path, "sku,name,price,colour\nA,B,1.00,red\n")
    with pytest.raises(CommandError, match="unknown column"):
        run("import_products", path)


def test_export_then_import_into_an_empty_database_round_trips(tmp_path):
    run("import_products", str(SAMPLE))
    exported = tmp_path / "out.csv"
    run("export_products", str(exported))
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [row["sku"] for row in rows] == sorted(row["sku"] for row in rows)
    assert {row["sku"]: row["quantity"] for row in rows}["HT-001"] == "40"
    before = sorted(ProductView.objects.values_list("sku", "name", "description", "category_slug", "price", "quantity"))
    # Wipe everything, then import the export.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "TRUNCATE read_product, read_stock_movement, read_category, products_stockmovement,"
            " products_stocklevel, products_product, products_category CASCADE"
        )
    run("import_products", str(exported))
    after = sorted(ProductView.objects.values_list("sku", "name", "description", "category_slug", "price", "quantity"))
    assert after == before


def test_exporting_stock_at_several_locations_then_importing_it_again_changes_nothing(tmp_path):
    run("import_products", str(SAMPLE))
    product = Product.objects.get(sku="HT-001")
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    bus.dispatch(commands.AdjustStock(product_id=product.id, delta=3, location="east"))
    exported = tmp_path / "out.csv"
    run("export_products", str(exported))
    assert {row["sku"]: row["quantity"] for row in csv.DictReader(exported.open())}["HT-001"] == "40"  # at main
    levels = sorted(StockLevel.objects.values_list("product__sku", "location__code", "quantity"))
    run("import_products", str(exported))
    assert sorted(StockLevel.objects.values_list("product__sku", "location__code", "quantity")) == levels


@pytest.mark.django_db(transaction=True)  # split mode: the rebuild starts its own REPEATABLE READ transaction
def test_rebuild_read_models_restores_emptied_read_tables(make_product):
    for _ in range(3):
        make_product(initial_stock=2)
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute("DELETE FROM read_product")
    output = run("rebuild_read_models")
    assert "[5/11] stock levels: 3 rows" in output
    assert "[6/11] stock movements: 3 rows" in output
    assert "[11/11] swap" in output
    assert ProductView.objects.count() == 3
    assert differences() == []


def test_verify_read_models_lists_differences_and_repairs_them(make_product):
    kept, changed, dropped = make_product(), make_product(), make_product()
    ProductView.objects.filter(id=changed).update(name="wrong")
    ProductView.objects.filter(id=dropped).delete()
    CategoryView.objects.create(
        slug="ghost", name="Ghost", created_at="2026-01-01T00:00Z", updated_at="2026-01-01T00:00Z"
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="3 difference"):
        call_command("verify_read_models", stdout=out)
    report = out.getvalue()
    assert f"read_product {changed}: wrong (name)" in report
    assert f"read_product {dropped}: missing" in report
    assert "read_category ghost: extra" in report
    assert str(kept) not in report
    assert "Repaired 3" in run("verify_read_models", "--repair")
    assert "match" in run("verify_read_models")


def test_stock_levels_untouched_by_verify(make_product):
    product_id = make_product(initial_stock=7)
    run("verify_read_models")
    assert StockLevel.objects.get(product_id=product_id).quantity == 7
