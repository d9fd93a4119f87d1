"""docs/openapi.yaml is the schema the code generates (validated, without warnings); a change to
the API without the regenerated file fails here, as in `.ci/check-schema`."""

from pathlib import Path

import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
UPDATE = "scripts/manage spectacular --validate --fail-on-warn --file docs/openapi.yaml"


def test_the_committed_schema_is_the_generated_one(settings, tmp_path):
    settings.API_READS_REQUIRE_AUTH = False  # the committed schema is for the default settings
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), f"docs/openapi.yaml is out of date: run {UPDATE}"


# Generated clients name their functions after these (products_stock_change.sync(...)), so a
# rename breaks every client's code: changing one is a decision, made here.
OPERATION_IDS = {
    "categories_list": "GET /api/categories/",
    "categories_create": "POST /api/categories/",
    "categories_retrieve": "GET /api/categories/{slug}/",
    "categories_partial_update": "PATCH /api/categories/{slug}/",
    "locations_list": "GET /api/locations/",
    "locations_create": "POST /api/locations/",
    "locations_retrieve": "GET /api/locations/{code}/",
    "locations_partial_update": "PATCH /api/locations/{code}/",
    "products_list": "GET /api/products/",
    "products_create": "POST /api/products/",
    "products_retrieve": "GET /api/products/{id}/",
    "products_update": "PUT /api/products/{id}/",
    "products_partial_update": "PATCH /api/products/{id}/",
    "products_destroy": "DELETE /api/products/{id}/",
    "products_events_list": "GET /api/products/{id}/events/",
    "products_stock_retrieve": "GET /api/products/{id}/stock/",
    "products_stock_change": "POST /api/products/{id}/stock/",
    "products_stock_movements_list": "GET /api/products/{id}/stock/movements/",
    "reservations_list": "GET /api/reservations/",
    "reservations_create": "POST /api/reservations/",
    "reservations_retrieve": "GET /api/reservations/{id}/",
    "reservations_commit": "POST /api/reservations/{id}/commit/",
    "reservations_extend": "POST /api/reservations/{id}/extend/",
    "reservations_release": "POST /api/reservations/{id}/release/",
    "stock_adjustments_create": "POST /api/stock/adjustments/",
    "stock_transfers_create": "POST /api/stock/transfers/",
}


def test_every_operation_keeps_its_readable_operation_id():
    schema = yaml.safe_load(COMMITTED.read_text())
    operations = {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }

    assert operations == OPERATION_IDS


def test_every_201_documents_the_location_of_what_it_created():
    schema = yaml.safe_load(COMMITTED.read_text())
    created = {
        f"{method.upper()} {path}": response.get("headers", {})
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and (response := operation.get("responses", {}).get("201"))
    }

    assert created, "no operation answers 201"
    assert {name: headers.get("Location", {}).get("required") for name, headers in created.items()} == dict.fromkeys(
        created, True
    )
