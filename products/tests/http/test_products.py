"""The products endpoints: create, read, list, change, archive."""

import uuid

import pytest

from products.tests.support import REPRESENTATION_KEYS
from products.write.models import Product, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def hammer(client, make_category):
    slug = make_category(slug="hand-tools", name="Hand tools")
    response = client.post(
        "/api/products/",
        {
            "sku": "HT-001",
            "name": "Claw hammer",
            "description": "Steel",
            "category": slug,
            "price": "12.50",
            "initial_stock": 40,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_create_product_answers_201_with_location_etag_and_the_representation(hammer, client):
    response = client.get(f"/api/products/{hammer['id']}/")
    assert set(hammer) == REPRESENTATION_KEYS
    assert {key: hammer[key] for key in REPRESENTATION_KEYS - {"id", "created_at", "updated_at"}} == {
        "sku": "HT-001",
        "name": "Claw hammer",
        "description": "Steel",
        "category": "hand-tools",
        "category_name": "Hand tools",
        "price": "12.50",
        "quantity": 40,
        "reserved": 0,
        "available": 40,
        "in_stock": True,
        "reorder_point": 0,
        "version": 1,
    }
    assert response.json() == hammer


def test_create_product_headers(client):
    response = client.post("/api/products/", {"sku": "A-1", "name": "A", "price": "1"})
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/products/{body['id']}/"
    assert response["ETag"] == '"1"'
    assert (body["description"], body["category"], body["quantity"], body["price"]) == ("", None, 0, "1.00")


def test_create_product_records_the_user_on_the_opening_ledger_row(client, admin_user):
    response = client.post("/api/products/", {"sku": "A-1", "name": "A", "price": "1", "initial_stock": 2})
    assert StockMovement.objects.get(product_id=response.json()["id"]).created_by == admin_user


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sku": ""}, "sku"),
        ({"sku": "has space"}, "sku"),
        ({"sku": "ümlaut"}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"description": "d" * 5001}, "description"),
        ({"price": "-0.01"}, "price"),
        ({"price": "1.001"}, "price"),
        ({"price": "100000000.00"}, "price"),
        ({"price": "cheap"}, "price"),
        ({"price": None}, "price"),
        ({"initial_stock": -1}, "initial_stock"),
        ({"initial_stock": 1_000_000_001}, "initial_stock"),
        ({"initial_stock": 1.5}, "initial_stock"),
        ({"category": "no-such-category"}, "category"),
        ({"category": "not a slug"}, "category"),
        ({"colour": "red"}, "colour"),
        ({"quantity": 5}, "quantity"),
        ({"version": 3}, "version"),
    ],
)
def test_create_product_with_invalid_input_is_refused_with_400(client, changes, field):
    body = {"sku": "A-1", "name": "A", "price": "1.00", **changes}
    response = client.post("/api/products/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Product.objects.exists()


@pytest.mark.parametrize("missing", ["sku", "name", "price"])
def test_create_product_requires_sku_name_and_price(client, missing):
    body = {"sku": "A-1", "name": "A", "price": "1.00"}
    del body[missing]
    response = client.post("/api/products/", body)
    assert response.status_code == 400
    assert missing in response.json()


def test_create_product_accepts_the_largest_values(client):
    response = client.post(
        "/api/products/",
        {
            "sku": "a.b_c-D9" + "x" * 56,
            "name": "n" * 200,
            "description": "d" * 5000,
            "price": "99999999.99",
            "initial_stock": 1_000_000_000,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["quantity"] == 1_000_000_000


def test_a_duplicate_sku_is_refused_regardless_of_case(client, hammer):
    response = client.post("/api/products/", {"sku": "ht-001", "name": "Other", "price": "1"})
    assert response.status_code == 400
    assert "sku" in response.json()
    assert Product.objects.count() == 1


def test_get_unknown_product_is_a_json_404(client):
    response = client.get(f"/api/products/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Product not found."}


def test_get_product_accepts_an_uppercase_id(client, hammer):
    response = client.get(f"/api/products/{hammer['id'].upper()}/")
    assert response.status_code == 200
    assert response.json()["id"] == hammer["id"]


def test_patch_changes_only_the_given_fields_and_answers_the_new_version(client, hammer):
    response = client.patch(f"/api/products/{hammer['id']}/", {"price": "14.00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["price"], body["name"], body["description"], body["category"], body["version"]) == (
        "14.00",
        "Claw hammer",
        "Steel",
        "hand-tools",
        2,
    )
    assert response["ETag"] == '"2"'
    assert client.get(f"/api/products/{hammer['id']}/").json() == body


def test_patch_can_clear_the_category(client, hammer):
    body = client.patch(f"/api/products/{hammer['id']}/", {"category": None}).json()
    assert (body["category"], body["category_name"]) == (None, None)


def test_patch_to_an_unknown_category_is_refused(client, hammer):
    response = client.patch(f"/api/products/{hammer['id']}/", {"category": "nope"})
    assert response.status_code == 400
    assert "category" in response.json()
    assert client.get(f"/api/products/{hammer['id']}/").json() == hammer


@pytest.mark.parametrize(
    "body",
    [
        {"sku": "HT-999"},
        {"quantity": 3},
        {"initial_stock": 3},
        {"colour": "red"},
        {"name": "Renamed", "sku": "HT-999"},
        {"name": "Renamed", "in_stock": False},
        {"name": ""},
        {"price": "-1"},
    ],
)
def test_patch_with_a_forbidden_unknown_or_invalid_field_is_refused_and_changes_nothing(client, hammer, body):
    response = client.patch(f"/api/products/{hammer['id']}/", body)
    assert response.status_code == 400, response.content
    assert set(response.json()) & set(body)
    assert client.get(f"/api/products/{hammer['id']}/").json() == hammer


def test_patch_with_a_json_array_body_is_refused(client, hammer):
    response = client.patch(f"/api/products/{hammer['id']}/", [1, 2], format="json")
    assert response.status_code == 400
    assert client.get(f"/api/products/{hammer['id']}/").json() == hammer


def test_put_replaces_every_detail(client, hammer):
    response = client.put(
        f"/api/products/{hammer['id']}/", {"name": "Mallet", "description": "", "category": None, "price": "3.00"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["description"], body["category"], body["price"], body["sku"], body["quantity"]) == (
        "Mallet",
        "",
        None,
        "3.00",
        "HT-001",
        40,
    )
    assert response["ETag"] == '"2"'


def test_put_requires_every_field(client, hammer):
    response = client.put(f"/api/products/{hammer['id']}/", {"name": "Mallet"})
    assert response.status_code == 400
    assert set(response.json()) == {"description", "category", "price"}
    assert client.get(f"/api/products/{hammer['id']}/").json() == hammer


def test_put_refuses_the_sku(client, hammer):
    body = {"name": "Mallet", "description": "", "category": None, "price": "3.00", "sku": "X"}
    response = client.put(f"/api/products/{hammer['id']}/", body)
    assert response.status_code == 400
    assert "sku" in response.json()


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_writes_to_an_unknown_product_are_json_404s(client, method):
    body = {"name": "Mallet", "description": "", "category": None, "price": "3.00"}
    response = getattr(client, method)(f"/api/products/{uuid.uuid4()}/", body)
    assert response.status_code == 404
    assert "detail" in response.json()


def test_delete_archives_the_product(client, hammer):
    url = f"/api/products/{hammer['id']}/"
    response = client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(url).status_code == 404
    assert client.get(f"{url}stock/").status_code == 404
    assert client.get(f"{url}stock/movements/").status_code == 404
    assert client.get("/api/products/").json()["results"] == []
    assert client.get("/api/products/?search=hammer").json()["results"] == []
    assert client.delete(url).status_code == 404
    assert client.patch(url, {"name": "Back"}).status_code == 404
    assert StockMovement.objects.filter(product_id=hammer["id"]).count() == 1


def test_an_archived_products_sku_stays_taken(client, hammer):
    client.delete(f"/api/products/{hammer['id']}/")
    response = client.post("/api/products/", {"sku": "HT-001", "name": "Again", "price": "1"})
    assert response.status_code == 400
    assert "sku" in response.json()


class TestIfMatch:
    def url(self, hammer):
        return f"/api/products/{hammer['id']}/"

    WRITES = [
        ("patch", {"name": "Renamed"}),
        ("put", {"name": "Renamed", "description": "", "category": None, "price": "1.00"}),
        ("delete", None),
    ]

    @pytest.mark.parametrize(("method", "body"), WRITES)
    # A weak tag never matches If-Match (RFC 9110 compares strongly), even of the current version.
    @pytest.mark.parametrize("if_match", ['"2"', '"0"', 'W/"7"', 'W/"1"', ' W/"1" ', '"' + "9" * 30 + '"'])
    def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(self, client, hammer, method, body, if_match):
        response = getattr(client, method)(self.url(hammer), body, HTTP_IF_MATCH=if_match)
        assert response.status_code == 412, response.content
        assert response.json()["code"] == "version_mismatch"
        assert "detail" in response.json()
        assert client.get(self.url(hammer)).json() == hammer

    @pytest.mark.parametrize(("method", "body"), WRITES)
    @pytest.mark.parametrize("if_match", ["1", "garbage", '"1", "2"', '"-1"', ""])
    def test_a_malformed_if_match_is_refused_with_400_and_changes_nothing(self, client, hammer, method, body, if_match):
        response = getattr(client, method)(self.url(hammer), body, HTTP_IF_MATCH=if_match)
        assert response.status_code == 400, response.content
        assert "If-Match" in response.json()
        assert client.get(self.url(hammer)).json() == hammer

    @pytest.mark.parametrize("if_match", ['"1"', "*", ' "1" '])
    def test_a_matching_if_match_applies(self, client, hammer, if_match):
        response = client.patch(self.url(hammer), {"name": "Renamed"}, HTTP_IF_MATCH=if_match)
        assert response.status_code == 200, response.content
        assert response.json()["version"] == 2

    def test_the_etag_of_a_response_is_the_if_match_for_the_next_write(self, client, hammer):
        first = client.patch(self.url(hammer), {"name": "Once"}, HTTP_IF_MATCH='"1"')
        second = client.patch(self.url(hammer), {"name": "Twice"}, HTTP_IF_MATCH=first["ETag"])
        assert second.status_code == 200
        stale = client.patch(self.url(hammer), {"name": "Thrice"}, HTTP_IF_MATCH=first["ETag"])
        assert stale.status_code == 412
        assert client.get(self.url(hammer)).json()["name"] == "Twice"

    def test_delete_with_the_current_version_applies(self, client, hammer):
        assert client.delete(self.url(hammer), HTTP_IF_MATCH='"1"').status_code == 204
