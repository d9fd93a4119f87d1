"""The CSV format shared by import_products and export_products, and the import itself.

Columns: sku, name, price (required); description, category, category_name, location,
quantity (optional). A row whose SKU exists updates that product; other rows create one. A
category unknown to the database is created when category_name is given. ``quantity`` is the
stock at ``location`` (a location's code, default ``main``): a SKU may have a row per
location, each setting the stock there, and the product's details follow its last row.
"""

import contextlib
import csv
from dataclasses import dataclass, field

from django.db import transaction
from rest_framework import serializers

from cqrs_demo.bus import bus
from products.errors import ArchivedSkuError, DomainError, UnknownLocationError
from products.http.serializers import SKU_PATTERN, PriceField, identifier_field, location_code_field, slug_field
from products.write import commands
from products.write.models import (
    MAIN_LOCATION,
    MAX_QUANTITY,
    Category,
    Location,
    Product,
    StockLevel,
)

EXPORT_COLUMNS = ("sku", "name", "description", "category", "category_name", "price", "location", "quantity")
REQUIRED_COLUMNS = {"sku", "name", "price"}


class ImportRowSerializer(serializers.Serializer):
    """The API's rules for a product, applied to one CSV row."""

    sku = identifier_field(SKU_PATTERN, max_length=64)
    name = serializers.CharField(min_length=1, max_length=200)
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
    category = slug_field(allow_blank=True, required=False)
    category_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    price = PriceField()
    location = location_code_field(allow_blank=True, required=False)
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, required=False, allow_null=True)

    def to_internal_value(self, data):
        # An empty cell means "no quantity given", not "0".
        if data.get("quantity", None) == "":
            data = {**data, "quantity": None}
        return super().to_internal_value(data)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)  # (line, message)

    @property
    def ok(self):
        return not self.errors


class ImportFormatError(ValueError):
    """The file as a whole cannot be imported (bad header)."""


def _messages(detail, prefix=""):
    if isinstance(detail, dict):
        for name, value in detail.items():
            yield from _messages(value, f"{name}: " if name != "non_field_errors" else "")
    elif isinstance(detail, list):
        for value in detail:
            yield from _messages(value, prefix)
    else:
        yield f"{prefix}{detail}"


def describe(error):
    """Return how a refused row is reported: ``field: message``."""
    prefix = f"{error.field}: " if error.field else ""
    return prefix + error.message


def check_columns(fieldnames):
    """Return the set of columns of a header, or raise ImportFormatError."""
    columns = set(fieldnames or ())
    missing = REQUIRED_COLUMNS - columns
    unknown = columns - set(EXPORT_COLUMNS)
    if missing or unknown:
        problems = [f"missing column(s): {', '.join(sorted(missing))}"] if missing else []
        problems += [f"unknown column(s): {', '.join(sorted(unknown))}"] if unknown else []
        raise ImportFormatError("; ".join(problems) + f". Expected: {','.join(EXPORT_COLUMNS)}.")
    return columns


def validate(row):
    """Check one DictReader row by the API's rules; return (validated data, None) or (None, problem)."""
    if None in row:
        return None, "The row has more cells than the header."
    serializer = ImportRowSerializer(data={k: v for k, v in row.items() if k is not None})
    if not serializer.is_valid():
        return None, "; ".join(_messages(serializer.errors))
    data = serializer.validated_data
    data["location"] = data.get("location") or MAIN_LOCATION  # blank or absent: main
    return data, None


def _ensure_category(slug, name):
    if not slug or Category.objects.filter(slug=slug).exists() or not name:
        return
    bus.dispatch(commands.CreateCategory(slug=slug, name=name))


def _quantity_at(product_id, location):
    """Return a product's quantity at a location (no stock row there: 0)."""
    level = StockLevel.objects.filter(product_id=product_id, location__code=location)
    return level.values_list("quantity", flat=True).first() or 0


def _import_row(data, columns):
    """Create or update the product of one validated row; return what happened."""
    location = data["location"]
    # An unknown location refuses the row, whatever its quantity (as an unknown category does);
    # an inactive one refuses it only if it would change the stock there (SetStock's rule).
    if not Location.objects.filter(code=location).exists():
        raise UnknownLocationError(f"Location {location!r} does not exist.")
    category = data.get("category") or None
    if "category" in columns:
        _ensure_category(category, data.get("category_name"))
    existing = (
        Product.objects.filter(sku__iexact=data["sku"])
        .values("id", "name", "description", "price", "is_archived", "category__slug")
        .first()
    )
    quantity = data.get("quantity")
    if existing is None:
        # A new product's opening stock is at main; stock elsewhere is then set there.
        at_main = location == MAIN_LOCATION
        product = bus.dispatch(
            commands.CreateProduct(
                sku=data["sku"],
                name=data["name"],
                description=data.get("description", ""),
                category=category,
                price=data["price"],
                initial_stock=(quantity or 0) if at_main else 0,
            )
        )
        if not at_main and quantity:
            bus.dispatch(
                commands.SetStock(product_id=product["id"], quantity=quantity, reason="import", location=location)
            )
        return "created"
    if existing["is_archived"]:
        raise ArchivedSkuError(data["sku"])
    wanted = {"name": data["name"], "price": data["price"]}
    if "description" in columns:
        wanted["description"] = data.get("description", "")
    if "category" in columns:
        wanted["category"] = category
    current = {**existing, "category": existing["category__slug"]}
    changes = {name: value for name, value in wanted.items() if current[name] != value}
    if changes:
        bus.dispatch(commands.UpdateProductDetails(product_id=existing["id"], **changes))
    if quantity is not None and quantity != _quantity_at(existing["id"], location):
        bus.dispatch(
            commands.SetStock(product_id=existing["id"], quantity=quantity, reason="import", location=location)
        )
        changes["quantity"] = quantity
    return "updated" if changes else "unchanged"


def import_products(lines, *, dry_run=False, on_row=None):
    """Import CSV ``lines``; each good row is applied on its own, bad rows are reported.

    With ``dry_run`` everything runs (so every rule is checked) and is then rolled back.
    """
    reader = csv.DictReader(lines)
    columns = check_columns(reader.fieldnames)
    report = ImportReport()
    # A transaction per row, so each row's commands take their products' locks before their
    # transaction gets an id (the event log's per-product order); a dry run is one, rolled back.
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        line = 1
        for row in reader:
            first_line, line = line + 1, reader.line_num
            data, problem = validate(row)
            try:
                if problem:
                    report.errors.append((first_line, problem))
                    continue
                # A failing row is undone alone and the import goes on.
                with transaction.atomic():
                    outcome = _import_row(data, columns)
                setattr(report, outcome, getattr(report, outcome) + 1)
            except DomainError as error:
                report.errors.append((first_line, describe(error)))
            if on_row:
                on_row()
        if dry_run:
            transaction.set_rollback(True)
    return report
