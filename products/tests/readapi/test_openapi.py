"""The read API's OpenAPI document: the Django API's GET operations (docs/openapi.yaml), no more, no less."""

from pathlib import Path

import yaml

from products.readapi.app import create_app
from products.readapi.config import Config

ROOT = Path(__file__).resolve().parents[3]


def _operations(document, method="get"):
    """Return ``{path: (operation id, {(parameter, in, required)}, {code: {(header, required)}})}`` for ``method``."""
    operations = {}
    for path, item in document["paths"].items():
        operation = item.get(method)
        if operation is None:
            continue
        parameters = {(p["name"], p["in"], p.get("required", False)) for p in operation.get("parameters", [])}
        responses = {
            str(code): {(name, header.get("required", False)) for name, header in response.get("headers", {}).items()}
            for code, response in operation["responses"].items()
        }
        operations[path] = (operation["operationId"], parameters, responses)
    return operations


def _read_api_document():
    # No database is contacted: the document is built from the routes.
    application = create_app(Config(read_url="postgresql://unused/none", write_url="postgresql://unused/none"))
    return application.fastapi.openapi()


def test_the_get_operations_match_the_django_schema():
    django = _operations(yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text()))
    assert _operations(_read_api_document()) == django


def test_it_documents_reads_only():
    document = _read_api_document()
    methods = {method for item in document["paths"].values() for method in item}
    assert methods == {"get"}
