"""An empty PATCH is a valid request that changes nothing (the schema marks every field optional)."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_empty_category_patch_answers_the_category_unchanged(client, make_category):
    slug = make_category(name="Fasteners")
    response = client.patch(f"/api/categories/{slug}/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Fasteners"


def test_an_empty_patch_of_an_unknown_category_is_404(client):
    assert client.patch("/api/categories/nowhere/", {}, format="json").status_code == 404
