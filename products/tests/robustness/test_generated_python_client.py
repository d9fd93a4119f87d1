"""A Python client generated from docs/openapi.yaml with openapi-python-client (pinned in
requirements-dev.txt) compiles, and drives a checkout against a real server: its request models
send what the API accepts and its response models parse what the API answers, errors included."""

import importlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from products.tests.conftest import SPLIT

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "docs" / "openapi.yaml"
PACKAGE = "inventory_api_client"  # not committed: generated for each test session


@pytest.fixture(scope="session")
def client_package(tmp_path_factory):
    """Generate the client package from the committed schema; return the folder it is in."""
    folder = tmp_path_factory.mktemp("generated")
    bin_dir = Path(sys.executable).parent  # openapi-python-client and the ruff its post hooks run
    command = [bin_dir / "openapi-python-client", "generate", "--path", SCHEMA, "--meta", "none"]
    result = subprocess.run(
        [*command, "--output-path", folder / PACKAGE],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # A warning means a part of the schema the generator could not turn into code (left out).
    assert "Warning" not in output and "Error" not in output, output
    return folder


@pytest.fixture(scope="session")
def client_modules(client_package):
    """Return a function that imports a module of the generated package by its dotted name within it."""
    sys.path.insert(0, str(client_package))

    def module(name=""):
        return importlib.import_module(f"{PACKAGE}.{name}" if name else PACKAGE)

    yield module
    sys.path.remove(str(client_package))


def test_every_generated_module_compiles(client_package):
    modules = sorted((client_package / PACKAGE).rglob("*.py"))

    for path in modules:
        compile(path.read_text(), str(path), "exec")  # a SyntaxError fails the test, naming the file
    assert {"products_stock_change.py", "reservations_commit.py", "stock_adjustments_create.py"} <= {
        path.name for path in modules
    }


def _project():
    """In split mode, apply the log to the read database (the worker), as a deployment's worker would."""
    if SPLIT:
        from products.read import worker

        worker.run()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_checkout_runs_through_the_generated_client(live_gunicorn, admin_token, client_modules):
    models = client_modules("models")
    api = {
        name: client_modules(f"api.{tag}.{name}")
        for tag, name in [
            ("categories", "categories_create"),
            ("products", "products_create"),
            ("products", "products_retrieve"),
            ("products", "products_stock_change"),
            ("reservations", "reservations_create"),
            ("reservations", "reservations_commit"),
        ]
    }
    # Statuses the schema does not document raise instead of passing as None.
    client = client_modules().AuthenticatedClient(
        base_url=live_gunicorn.url, token=admin_token, prefix="Token", raise_on_unexpected_status=True
    )

    category = api["categories_create"].sync(client=client, body=models.CategoryCreateRequest(name="Garden tools"))
    assert isinstance(category, models.Category)
    assert category.slug == "garden-tools"

    product = api["products_create"].sync(
        client=client,
        body=models.ProductCreateRequest(sku="SPADE-1", name="Spade", price="19.90", category=category.slug),
    )
    assert isinstance(product, models.Product)
    assert (product.quantity, product.category_name) == (0, "Garden tools")

    delivered = api["products_stock_change"].sync(
        product.id, client=client, body=models.StockChangeByDeltaRequest(delta=5, reason="delivery")
    )
    assert isinstance(delivered, models.Product)
    assert (delivered.quantity, delivered.available) == (5, 5)

    line = models.ReservationLineRequest(product=product.id, quantity=3)
    reservation = api["reservations_create"].sync(
        client=client, body=models.ReservationCreateRequest(lines=[line], reference="order-1")
    )
    assert isinstance(reservation, models.Reservation)
    assert reservation.status == models.ReservationStatus.ACTIVE
    assert [(held.sku, held.location, held.quantity) for held in reservation.lines] == [("SPADE-1", "main", 3)]

    committed = api["reservations_commit"].sync(reservation.id, client=client)
    assert isinstance(committed, models.Reservation)
    assert committed.status == models.ReservationStatus.COMMITTED

    _project()
    read_back = api["products_retrieve"].sync(product.id, client=client)
    assert isinstance(read_back, models.Product)
    assert (read_back.quantity, read_back.reserved, read_back.available) == (2, 0, 2)
    assert Decimal(read_back.price) == Decimal("19.90")

    too_many = models.ReservationLineRequest(product=product.id, quantity=3)
    refused = api["reservations_create"].sync_detailed(
        client=client, body=models.ReservationCreateRequest(lines=[too_many])
    )
    assert refused.status_code == 409
    assert isinstance(refused.parsed, models.InsufficientStock)
    assert refused.parsed.code == "insufficient_stock"
    assert [(short.requested, short.available) for short in refused.parsed.lines] == [(3, 2)]

    # A body the client's types allow but the server refuses: a location code that does not exist.
    invalid = api["products_stock_change"].sync_detailed(
        product.id, client=client, body=models.StockChangeByQuantityRequest(quantity=7, location="nowhere")
    )
    assert invalid.status_code == 400
    assert isinstance(invalid.parsed, models.ValidationError)
    assert invalid.parsed["location"] == ["Location 'nowhere' does not exist."]

    _project()
    after = api["products_retrieve"].sync(product.id, client=client)
    assert (after.quantity, after.reserved, after.version) == (2, 0, read_back.version)
