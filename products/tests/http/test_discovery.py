"""API root, OpenAPI schema, Swagger UI and ReDoc pages, health probes."""

import re

import pytest
import yaml

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/categories/",
    "/api/categories/{slug}/",
    "/api/locations/",
    "/api/locations/{code}/",
    "/api/products/",
    "/api/products/{id}/",
    "/api/products/{id}/stock/",
    "/api/products/{id}/stock/movements/",
    "/api/reservations/",
    "/api/reservations/{id}/",
    "/api/reservations/{id}/commit/",
    "/api/reservations/{id}/release/",
    "/api/reservations/{id}/extend/",
    "/api/stock/adjustments/",
    "/api/stock/transfers/",
}


def test_the_api_root_lists_the_collections(anon_client):
    response = anon_client.get("/api/")
    assert response.status_code == 200
    assert response.json() == {
        "categories": "http://testserver/api/categories/",
        "locations": "http://testserver/api/locations/",
        "products": "http://testserver/api/products/",
        "reservations": "http://testserver/api/reservations/",
    }


@pytest.mark.parametrize("path", ["/api/products.json", "/api/categories.json"])
def test_a_format_suffix_is_not_a_route(anon_client, path):
    # The schema lists no suffix routes; `?format=json` or `Accept` choose the renderer.
    response = anon_client.get(path)
    assert response.status_code == 404
    assert anon_client.get(path.replace(".json", "/") + "?format=json").status_code == 200


def test_the_schema_is_yaml_and_lists_every_path(anon_client):
    response = anon_client.get("/api/schema/")
    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= API_PATHS
    assert {"get", "post"} <= set(schema["paths"]["/api/products/{id}/stock/"])
    assert {"get", "put", "patch", "delete"} <= set(schema["paths"]["/api/products/{id}/"])


def test_the_schema_is_json_on_request(anon_client):
    response = anon_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= API_PATHS
    assert "tokenAuth" in schema["components"]["securitySchemes"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_are_html_served_without_a_cdn(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        assert anon_client.get(asset).status_code == 200, asset


def test_liveness_answers_ok_without_touching_the_database(anon_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = anon_client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_answers_ok_when_the_database_is_migrated(anon_client):
    response = anon_client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
