"""import_products in bulk: same report and state as row by row, chosen by size, streamed."""

import io
import logging
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from products.management.commands import import_products as command_module
from products.read.models import ProductView
from products.read.rebuild import differences
from products.write.models import EventRecord, Product, StockMovement

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_products.csv"

pytestmark = pytest.mark.django_db


def run(*args):
    """Run a command; return (stdout lines, the CommandError message or None)."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return out.getvalue().splitlines(), str(error)
    return out.getvalue().splitlines(), None


BAD_ROWS = (
    "sku,name,price,quantity,category,category_name\n"
    "OK-1,Good,1.00,3,,\n"
    "bad sku,Bad,1.00,,,\n"
    "OK-2,Negative,-1,,,\n"
    '"OK-3","Multi\nline name",2.00,,,\n'
    "OK-4,Unknown category,1.00,,nowhere,\n"
    "OK-5,Too much,1.00,1000000001,,\n"
    "\n"
    "OK-6, Padded ,2.5, 7 ,,\n"
    "OK-7,Too many,1.00,,,,extra\n"
    "OK-8,Too few\n"
    "OK-9,Early,1.00,,later,\n"
    "OK-10,Names it,1.00,,later,Later\n"
    "OK-11,Blank name, ,1.00,,\n"
    "ok-1,Again,1.50,,,\n"
)


def test_bulk_reports_the_same_bad_rows_and_keeps_the_same_good_ones_as_row_by_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_ROWS, encoding="utf-8")
    with transaction.atomic():
        expected = run("import_products", str(path), "--no-bulk")
        expected_products = sorted(ProductView.objects.values_list("sku", "name", "price", "quantity", "category_slug"))
        transaction.set_rollback(True)
    lines, error = run("import_products", str(path), "--bulk")
    assert lines == expected[0]
    # Row by row counts the repeated ok-1 as an update of OK-1; bulk counts products.
    assert (error, expected[1]) == (
        "4 were created, 0 updated, 0 unchanged, 8 rejected.",
        "4 were created, 1 updated, 0 unchanged, 8 rejected.",
    )
    assert lines[0].startswith("line 3: sku:")
    assert "line 7: category: Category 'nowhere' does not exist." in lines
    assert sorted(ProductView.objects.values_list("sku", "name", "price", "quantity", "category_slug")) == (
        expected_products
    )
    assert differences() == []


def test_bulk_sample_file_then_again_changes_nothing():
    lines, error = run("import_products", str(SAMPLE), "--bulk")
    assert error is None and "5 were created, 0 updated, 0 unchanged, 0 rejected" in lines[-1]
    assert differences() == []
    before = (
        EventRecord.objects.count(),
        StockMovement.objects.count(),
        sorted(Product.objects.values_list("sku", "version")),
    )
    lines, error = run("import_products", str(SAMPLE), "--bulk")
    assert "0 were created, 0 updated, 5 unchanged, 0 rejected" in lines[-1]
    after = (
        EventRecord.objects.count(),
        StockMovement.objects.count(),
        sorted(Product.objects.values_list("sku", "version")),
    )
    assert after == before


def test_bulk_dry_run_changes_nothing():
    lines, _ = run("import_products", str(SAMPLE), "--bulk", "--dry-run")
    assert "5 would be created" in lines[-1]
    assert not Product.objects.exists()
    assert not ProductView.objects.exists()


@pytest.mark.parametrize(("args", "bulk"), [((), True), (("--no-bulk",), False)])
def test_bulk_is_the_default_above_the_threshold_and_the_bus_logs_one_line(monkeypatch, caplog, args, bulk):
    monkeypatch.setattr(command_module, "BULK_THRESHOLD", 4)  # the sample has 5 rows
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")
    lines, error = run("import_products", str(SAMPLE), *args)
    assert error is None and "5 were created" in lines[-1]
    logged = [record.command for record in caplog.records if record.name == "cqrs_demo.bus"]
    assert (logged == ["BulkImportProducts"]) is bulk
    assert differences() == []


def test_below_the_threshold_the_import_goes_row_by_row(caplog):
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")
    run("import_products", str(SAMPLE))
    assert "BulkImportProducts" not in {record.command for record in caplog.records if record.name == "cqrs_demo.bus"}


def test_bulk_and_no_bulk_together_are_refused():
    with pytest.raises(CommandError):
        call_command("import_products", str(SAMPLE), "--bulk", "--no-bulk")
