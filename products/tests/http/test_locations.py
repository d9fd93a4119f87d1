"""The locations endpoints (in split mode too: the read database follows the event log)."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from products.write.models import EventRecord, Location

pytestmark = pytest.mark.django_db

EAST = {"code": "east", "name": "East warehouse"}


def test_create_location_answers_201_with_it_and_its_url(client):
    response = client.post("/api/locations/", EAST, format="json")
    assert response.status_code == 201, response.content
    assert response["Location"] == "/api/locations/east/"
    body = response.json()
    assert set(body) == {"code", "name", "is_active", "created_at", "updated_at"}
    assert (body["code"], body["name"], body["is_active"]) == ("east", "East warehouse", True)
    assert client.get("/api/locations/east/").json() == body


def test_create_location_appends_its_event_to_the_log(client):
    client.post("/api/locations/", EAST, format="json")
    record = EventRecord.objects.latest("id")
    assert (record.type, record.payload["code"], record.payload["location"]["name"]) == (
        "LocationCreated",
        "east",
        "East warehouse",
    )


def test_a_retried_create_with_an_idempotency_key_is_replayed(client):
    first = client.post("/api/locations/", EAST, format="json", HTTP_IDEMPOTENCY_KEY="loc-1")
    again = client.post("/api/locations/", EAST, format="json", HTTP_IDEMPOTENCY_KEY="loc-1")
    assert first.status_code == again.status_code == 201
    assert (again.json(), again["Location"], again["Idempotent-Replayed"]) == (first.json(), first["Location"], "true")
    assert Location.objects.filter(code="east").count() == 1


def test_a_duplicate_code_is_a_400_on_the_code(client):
    response = client.post("/api/locations/", {"code": "main", "name": "Another main"}, format="json")
    assert response.status_code == 400
    assert "code" in response.json()
    assert Location.objects.get(code="main").name == "Main warehouse"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No code"}, "code"),
        ({"code": "", "name": "Empty"}, "code"),
        ({"code": "East", "name": "Capital"}, "code"),
        ({"code": "east side", "name": "Space"}, "code"),
        ({"code": "east.1", "name": "Dot"}, "code"),
        ({"code": "e" * 33, "name": "Long"}, "code"),
        ({"code": 7, "name": "Number"}, "code"),
        ({"code": "east"}, "name"),
        ({"code": "east", "name": ""}, "name"),
        ({"code": "east", "name": "n" * 101}, "name"),
        ({"code": "east", "name": "East", "is_active": False}, "is_active"),
        ({"code": "east", "name": "East", "colour": "red"}, "colour"),
    ],
)
def test_create_location_with_invalid_input_is_a_400(client, body, field):
    response = client.post("/api/locations/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert list(Location.objects.values_list("code", flat=True)) == ["main"]


def test_codes_of_32_characters_of_every_allowed_kind_are_accepted(client):
    code = "a-z_0-9" + "x" * 25
    assert client.post("/api/locations/", {"code": code, "name": "Edge"}, format="json").status_code == 201
    assert client.get(f"/api/locations/{code}/").json()["code"] == code


def test_get_main_and_list_locations_by_code_in_pages(anon_client, client):
    for code in ("west", "east", "north"):
        client.post("/api/locations/", {"code": code, "name": code.title()}, format="json")
    assert anon_client.get("/api/locations/main/").json()["name"] == "Main warehouse"
    body = anon_client.get("/api/locations/?page_size=3").json()
    assert [row["code"] for row in body["results"]] == ["east", "main", "north"]
    assert [row["code"] for row in anon_client.get(body["next"]).json()["results"]] == ["west"]


def test_an_unknown_location_is_a_json_404(anon_client, client):
    response = anon_client.get("/api/locations/nope/")
    assert (response.status_code, response.json()) == (404, {"detail": "Location not found."})
    assert client.patch("/api/locations/nope/", {"name": "X"}, format="json").status_code == 404
    assert client.patch("/api/locations/nope/", {}, format="json").status_code == 404
    assert anon_client.get("/api/locations/NOPE/").status_code == 404  # not a code: the router's 404


def test_patch_renames_and_deactivates_a_location(client):
    client.post("/api/locations/", EAST, format="json")
    renamed = client.patch("/api/locations/east/", {"name": "East depot"}, format="json")
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["is_active"]) == ("East depot", True)
    closed = client.patch("/api/locations/east/", {"is_active": False}, format="json")
    assert (closed.json()["name"], closed.json()["is_active"]) == ("East depot", False)
    assert client.get("/api/locations/east/").json()["is_active"] is False
    assert EventRecord.objects.latest("id").type == "LocationChanged"
    reopened = client.patch("/api/locations/east/", {"name": "East", "is_active": True}, format="json")
    assert (reopened.json()["name"], reopened.json()["is_active"]) == ("East", True)


def test_an_empty_patch_changes_nothing(client):
    before = EventRecord.objects.count()
    response = client.patch("/api/locations/main/", {}, format="json")
    assert (response.status_code, response.json()["name"]) == (200, "Main warehouse")
    assert EventRecord.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        {"code": "other"},
        {"name": ""},
        {"name": None},
        {"is_active": "false"},
        {"is_active": 0},
        {"is_active": None},
        {"name": "X", "colour": "red"},
        {"created_at": "2026-01-01T00:00:00Z"},
    ],
)
def test_a_patch_accepts_only_a_name_and_is_active(client, body):
    response = client.patch("/api/locations/main/", body, format="json")
    assert response.status_code == 400
    assert set(body) & set(response.json())
    location = Location.objects.get(code="main")
    assert (location.name, location.is_active) == ("Main warehouse", True)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_locations_cannot_be_replaced_or_deleted(client, method):
    response = getattr(client, method)("/api/locations/main/", {"name": "X"}, format="json")
    assert response.status_code == 405
    assert "detail" in response.json()
    assert Location.objects.filter(code="main").exists()


def test_writes_need_credentials_and_the_model_permissions(anon_client, plain_client, django_user_model):
    assert anon_client.post("/api/locations/", EAST, format="json").status_code == 401
    assert anon_client.patch("/api/locations/main/", {"name": "X"}, format="json").status_code == 401
    assert plain_client.post("/api/locations/", EAST, format="json").status_code == 403
    assert plain_client.patch("/api/locations/main/", {"name": "X"}, format="json").status_code == 403
    assert list(Location.objects.values_list("code", "name")) == [("main", "Main warehouse")]

    user = django_user_model.objects.create_user("keeper", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="add_location"))
    keeper = APIClient()
    keeper.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert keeper.post("/api/locations/", EAST, format="json").status_code == 201
    assert keeper.patch("/api/locations/east/", {"is_active": False}, format="json").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_location"))
    assert keeper.patch("/api/locations/east/", {"is_active": False}, format="json").status_code == 200
