"""An empty PATCH is a valid request that changes nothing (the schema marks every field optional)."""

import uuid

import pytest

from products.write.models import EventRecord, Location, Product, StockMovement

pytestmark = pytest.mark.django_db


def test_an_empty_category_patch_answers_the_category_unchanged(client, make_category):
    slug = make_category(name="Fasteners")
    response = client.patch(f"/api/categories/{slug}/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Fasteners"


def test_an_empty_patch_of_an_unknown_category_is_404(client):
    assert client.patch("/api/categories/nowhere/", {}, format="json").status_code == 404


# A change that changes nothing: no field sent, or every value sent equal to the current one.
# It answers 200 with the unchanged resource, and writes nothing: no version bump, no event,
# no ledger row, no updated_at of its own.


@pytest.fixture
def product(client, make_category):
    make_category(slug="hand-tools", name="Hand tools")
    response = client.post(
        "/api/products/",
        {
            "sku": "NOOP-1",
            "name": "Claw hammer",
            "description": "Steel",
            "category": "hand-tools",
            "price": "12.50",
            "reorder_point": 3,
            "initial_stock": 5,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _writes_of(product_id):
    return (
        list(EventRecord.objects.filter(product_id=product_id).values_list("id", flat=True)),
        StockMovement.objects.filter(product_id=product_id).count(),
        Product.objects.values("version", "updated_at").get(id=product_id),
    )


SAME = {"name": "Claw hammer", "description": "Steel", "category": "hand-tools", "price": "12.5", "reorder_point": 3}


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("patch", {}),
        ("patch", {"name": "Claw hammer"}),
        ("patch", {"price": "12.50", "category": "hand-tools"}),
        ("patch", SAME),
        ("put", SAME),
        ("put", {key: value for key, value in SAME.items() if key != "reorder_point"}),
    ],
)
@pytest.mark.parametrize("if_match", [None, '"1"', "*"])
def test_a_product_change_that_changes_nothing_answers_the_product_and_writes_nothing(
    client, product, method, body, if_match
):
    url = f"/api/products/{product['id']}/"
    before = _writes_of(product["id"])
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    response = getattr(client, method)(url, body, format="json", **headers)
    assert response.status_code == 200, response.content
    assert response.json() == product
    assert response["ETag"] == '"1"'
    assert _writes_of(product["id"]) == before
    assert client.get(url).json() == product


@pytest.mark.parametrize("if_match", ['"2"', '"0"', 'W/"1"'])
def test_a_product_change_that_changes_nothing_is_still_refused_on_a_stale_if_match(client, product, if_match):
    before = _writes_of(product["id"])
    response = client.patch(f"/api/products/{product['id']}/", {}, format="json", HTTP_IF_MATCH=if_match)
    assert response.status_code == 412, response.content
    assert response.json()["code"] == "version_mismatch"
    assert _writes_of(product["id"]) == before


def test_an_empty_patch_of_an_unknown_or_archived_product_is_404(client, product):
    assert client.patch(f"/api/products/{uuid.uuid4()}/", {}, format="json").status_code == 404
    assert client.delete(f"/api/products/{product['id']}/").status_code == 204
    assert client.patch(f"/api/products/{product['id']}/", {}, format="json").status_code == 404
    assert client.patch(f"/api/products/{product['id']}/", SAME, format="json").status_code == 404


def test_a_product_change_of_one_field_bumps_the_version_once_with_one_event(client, product):
    before = EventRecord.objects.filter(product_id=product["id"]).count()
    body = {**SAME, "name": "Framing hammer"}
    response = client.patch(f"/api/products/{product['id']}/", body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["name"]) == (2, "Framing hammer")
    types = EventRecord.objects.filter(product_id=product["id"]).values_list("type", flat=True).order_by("id")
    assert list(types)[before:] == ["ProductDetailsUpdated"]


def test_clearing_a_category_is_a_change(client, product):
    response = client.patch(f"/api/products/{product['id']}/", {"category": None}, format="json")
    assert (response.json()["category"], response.json()["version"]) == (None, 2)


def _location_writes(code):
    return (
        EventRecord.objects.filter(type="LocationChanged", payload__code=code).count(),
        Location.objects.values("name", "is_active", "updated_at").get(code=code),
    )


@pytest.mark.parametrize("body", [{}, {"name": "East"}, {"is_active": True}, {"name": "East", "is_active": True}])
def test_a_location_change_that_changes_nothing_writes_nothing(client, body):
    created = client.post("/api/locations/", {"code": "east", "name": "East"}, format="json").json()
    before = _location_writes("east")
    response = client.patch("/api/locations/east/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == created
    assert _location_writes("east") == before


def test_a_category_rename_to_its_own_name_writes_nothing(client, make_category):
    slug = make_category(name="Fasteners")
    category = client.get(f"/api/categories/{slug}/").json()
    before = EventRecord.objects.filter(type="CategoryRenamed").count()
    response = client.patch(f"/api/categories/{slug}/", {"name": "Fasteners"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == category
    assert EventRecord.objects.filter(type="CategoryRenamed").count() == before
    assert client.get(f"/api/categories/{slug}/").json() == category
