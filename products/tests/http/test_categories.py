"""The categories endpoints."""

from decimal import Decimal

import pytest

from products.write.models import Category

pytestmark = pytest.mark.django_db


def test_create_category_answers_201_with_it(client):
    response = client.post("/api/categories/", {"name": "Hand tools", "slug": "hand-tools"})
    assert response.status_code == 201, response.content
    assert set(response.json()) == {"slug", "name", "created_at", "updated_at"}
    assert (response.json()["slug"], response.json()["name"]) == ("hand-tools", "Hand tools")
    assert response["Location"] == "/api/categories/hand-tools/"


def test_a_replayed_category_create_names_the_same_location(client):
    first = client.post("/api/categories/", {"name": "Hand tools"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/categories/", {"name": "Hand tools"}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert (again.status_code, again["Location"], again["Idempotent-Replayed"]) == (201, first["Location"], "true")
    assert Category.objects.count() == 1


def test_create_category_derives_the_slug_from_the_name(client):
    assert client.post("/api/categories/", {"name": "Power Tools & More"}).json()["slug"] == "power-tools-more"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "Tools", "slug": "not a slug"}, "slug"),
        ({"name": "!!!"}, "slug"),
        ({"name": "Tools", "colour": "red"}, "colour"),
    ],
)
def test_create_category_with_invalid_input_is_a_400(client, body, field):
    response = client.post("/api/categories/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Category.objects.exists()


def test_a_duplicate_slug_is_a_400_on_the_slug(client):
    client.post("/api/categories/", {"name": "Hand tools"})
    response = client.post("/api/categories/", {"name": "Hand Tools"})
    assert response.status_code == 400
    assert "slug" in response.json()


def test_get_and_list_categories(anon_client, make_category):
    for slug in ("b", "a", "c"):
        make_category(slug=slug, name=slug.upper())
    assert anon_client.get("/api/categories/b/").json()["name"] == "B"
    body = anon_client.get("/api/categories/?page_size=2").json()
    assert [row["slug"] for row in body["results"]] == ["a", "b"]
    assert [row["slug"] for row in anon_client.get(body["next"]).json()["results"]] == ["c"]


def test_an_unknown_category_is_a_json_404(anon_client, client):
    assert anon_client.get("/api/categories/nope/").json() == {"detail": "Category not found."}
    assert anon_client.get("/api/categories/nope/").status_code == 404
    assert client.patch("/api/categories/nope/", {"name": "X"}).status_code == 404


def test_rename_reaches_every_product_in_the_category_before_the_response(client, make_category, make_product):
    slug = make_category(name="Tools")
    product_ids = [make_product(category=slug, price=Decimal(1)) for _ in range(3)]
    response = client.patch(f"/api/categories/{slug}/", {"name": "Hand tools"})
    assert response.status_code == 200
    assert response.json()["name"] == "Hand tools"
    for product_id in product_ids:
        assert client.get(f"/api/products/{product_id}/").json()["category_name"] == "Hand tools"
    listed = client.get(f"/api/products/?category={slug}").json()["results"]
    assert [row["category_name"] for row in listed] == ["Hand tools"] * 3


@pytest.mark.parametrize("body", [{"name": ""}, {"slug": "other"}, {"name": "X", "slug": "other"}])
def test_a_rename_accepts_only_a_name(client, make_category, body):
    slug = make_category(name="Tools")
    assert client.patch(f"/api/categories/{slug}/", body).status_code == 400
    assert Category.objects.get(slug=slug).name == "Tools"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_categories_cannot_be_replaced_or_deleted(client, make_category, method):
    slug = make_category()
    response = getattr(client, method)(f"/api/categories/{slug}/", {"name": "X"})
    assert response.status_code == 405
    assert "detail" in response.json()
