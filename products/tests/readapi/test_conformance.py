"""The read API answers every GET as the Django API does: status, JSON body, ETag and page links.

Each request goes to both (Django's test client, the read API through httpx's ASGI transport)
on the same committed data, and the answers are compared whole.
"""

import json
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _answer(status, body, etag):
    return {"status": status, "body": body, "etag": etag}


def _django(client, path, **headers):
    response = client.get(path, **headers)
    return _answer(response.status_code, json.loads(response.content), response.headers.get("ETag"))


def _compare(client, read_api, paths, *, headers=None, django_headers=None):
    """Return the paths whose answers differ, with both answers; and the Django answers by path."""
    django_answers = {path: _django(client, path, **(django_headers or {})) for path in paths}
    replies = read_api.get_all(paths, headers)
    differences = []
    for path, reply in zip(paths, replies, strict=True):
        ours = _answer(reply.status_code, reply.json(), reply.headers.get("etag"))
        if ours != django_answers[path]:
            differences.append((path, django_answers[path], ours))
    return differences, django_answers


def _path_of(link):
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def catalogue(client):
    """A catalogue touching every filter: categories, two locations, stock, holds, an archived product."""

    def post(path, body):
        response = client.post(path, body, format="json")
        assert response.status_code in (200, 201), response.content
        return response.json()

    post("/api/categories/", {"slug": "hand-tools", "name": "Hand tools"})
    post("/api/categories/", {"slug": "garden", "name": "Garden"})
    post("/api/locations/", {"code": "east", "name": "East warehouse"})
    products = [
        post(
            "/api/products/",
            {
                "sku": f"HT-{number:03d}",
                "name": f"{word} hammer {number}",
                "description": "steel head" if number % 2 else "wooden handle",
                "category": "hand-tools" if number % 3 else "garden",
                "price": f"{number * 3}.{number % 10}0",
                "initial_stock": number % 4 * 5,
                "reorder_point": 5,
            },
        )
        for number, word in enumerate(["Claw", "Ball", "Sledge", "Club", "Mallet", "Tack", "Rubber"], start=1)
    ]
    ids = [product["id"] for product in products]
    post(f"/api/products/{ids[0]}/stock/", {"delta": 7, "location": "east"})
    post(f"/api/products/{ids[0]}/stock/", {"delta": -1, "reason": "sale"})
    post(f"/api/products/{ids[1]}/stock/", {"quantity": 3})
    reservation = post("/api/reservations/", {"reference": "order-1", "lines": [{"product": ids[2], "quantity": 2}]})
    post("/api/reservations/", {"reference": "order-2", "lines": [{"product": ids[0], "quantity": 1}]})
    archived = post("/api/products/", {"sku": "GONE-1", "name": "Gone", "price": "1.00"})["id"]
    assert client.delete(f"/api/products/{archived}/").status_code == 204
    return {"ids": ids, "reservation": reservation["id"], "archived": archived}


PRODUCT_LISTS = [
    "/api/products/",
    "/api/products",  # served as /api/products/ by both, no redirect
    "/api/products/?page_size=2",
    "/api/products/?page_size=1000",
    "/api/products/?search=hammer",
    "/api/products/?search=ste+HAM",
    "/api/products/?search=",
    "/api/products/?search=%20%20",
    "/api/products/?category=garden",
    "/api/products/?category=nothing-here",
    "/api/products/?in_stock=true",
    "/api/products/?in_stock=False",
    "/api/products/?in_stock=null",
    "/api/products/?location=east",
    "/api/products/?location=main&in_stock=1",
    "/api/products/?low_stock=true",
    "/api/products/?low_stock=off",
    "/api/products/?min_price=5",
    "/api/products/?max_price=9.5",
    "/api/products/?min_price=5.00&max_price=15&ordering=-price",
    *[
        f"/api/products/?ordering={name}"
        for name in ("sku", "-sku", "name", "-name", "price", "quantity", "-created_at")
    ],
    "/api/products/?unknown=1&format=json",
    # Refused input: the same 400 and messages.
    "/api/products/?page_size=0",
    "/api/products/?page_size=-3",
    "/api/products/?page_size=abc",
    "/api/products/?page_size=2.0",
    "/api/products/?page_size=",
    "/api/products/?cursor=",
    "/api/products/?cursor=forged",
    "/api/products/?cursor=WyJhYmMiLCJuZXh0IiwxLDJd",  # valid base64 JSON of another list
    "/api/products/?cursor=%00",
    "/api/products/?min_price=abc",
    "/api/products/?min_price=-1",
    "/api/products/?min_price=1.234",
    "/api/products/?min_price=123456789",
    "/api/products/?min_price=%201",
    "/api/products/?min_price=20&max_price=5",
    "/api/products/?min_price=abc&max_price=5&page_size=0",
    "/api/products/?category=bad%20slug",
    "/api/products/?category=" + "a" * 101,
    "/api/products/?category=%20",
    "/api/products/?location=EAST",
    "/api/products/?location=" + "a" * 33,
    "/api/products/?ordering=bogus",
    "/api/products/?ordering=",
    "/api/products/?in_stock=maybe",
    "/api/products/?low_stock=",
    "/api/products/?search=" + "x" * 201,
]


def test_every_product_list_answers_alike(client, read_api, catalogue):
    differences, _ = _compare(client, read_api(), PRODUCT_LISTS)
    assert differences == []


def test_the_pages_after_the_first_alike_and_cursors_work_on_either_api(client, read_api, catalogue):
    api = read_api()
    first = "/api/products/?page_size=2&ordering=-price&in_stock=true"
    page = _django(client, first)["body"]
    assert page["next"]
    second = _path_of(page["next"])
    differences, answers = _compare(client, api, [second])
    assert differences == []
    # A cursor made by the read API, followed on Django: the same third page.
    ours = api.get(second).json()
    third = _path_of(ours["next"])
    differences, answers = _compare(client, api, [third, _path_of(ours["previous"])])
    assert differences == []
    assert answers[third]["status"] == 200 and answers[third]["body"]["results"]
    # A cursor of one list on another: refused alike.
    differences, answers = _compare(client, api, [second.replace("in_stock=true", "in_stock=false")])
    assert differences == [] and answers[second.replace("in_stock=true", "in_stock=false")]["status"] == 400


def test_each_resource_and_its_404s_answer_alike(client, read_api, catalogue):
    ids, reservation = catalogue["ids"], catalogue["reservation"]
    unknown = "00000000-0000-4000-8000-000000000000"
    paths = [
        f"/api/products/{ids[0]}/",
        f"/api/products/{ids[0].upper()}/",
        f"/api/products/{unknown}/",
        f"/api/products/{catalogue['archived']}/",
        "/api/products/not-a-uuid/",
        f"/api/products/{ids[0]}/stock/",
        f"/api/products/{ids[2]}/stock/",
        f"/api/products/{unknown}/stock/",
        f"/api/products/{ids[0]}/stock/movements/",
        f"/api/products/{ids[0]}/stock/movements/?page_size=1",
        f"/api/products/{ids[0]}/stock/movements/?page_size=0",
        f"/api/products/{ids[0]}/stock/movements/?cursor=forged",
        f"/api/products/{unknown}/stock/movements/",
        f"/api/products/{catalogue['archived']}/stock/movements/",
        f"/api/products/{ids[0]}/events/",
        f"/api/products/{ids[0]}/events/?page_size=2",
        f"/api/products/{catalogue['archived']}/events/",
        f"/api/products/{unknown}/events/",
        "/api/products/not-a-uuid/events/",
        "/api/categories/",
        "/api/categories/?page_size=1",
        "/api/categories/?page_size=x",
        "/api/categories/garden/",
        "/api/categories/unknown/",
        "/api/categories/bad.slug/",
        "/api/locations/",
        "/api/locations/east/",
        "/api/locations/west/",
        "/api/locations/EAST/",
        "/api/locations/?cursor=forged",
        "/api/reservations/",
        "/api/reservations/?status=active",
        "/api/reservations/?status=expired",
        "/api/reservations/?status=bogus",
        "/api/reservations/?reference=order-1",
        "/api/reservations/?reference=%20order-1%20",
        "/api/reservations/?reference=%20",
        "/api/reservations/?page_size=1",
        f"/api/reservations/{reservation}/",
        f"/api/reservations/{unknown}/",
        "/api/reservations/123/",
        "/api/nothing/",
    ]
    differences, answers = _compare(client, read_api(), paths)
    assert differences == []
    assert answers[f"/api/products/{ids[0]}/"]["etag"] is not None
    # The second page of each paged resource, from the link of the first.
    seconds = [
        _path_of(answers[path]["body"]["next"])
        for path in (
            f"/api/products/{ids[0]}/stock/movements/?page_size=1",
            f"/api/products/{ids[0]}/events/?page_size=2",
            "/api/categories/?page_size=1",
            "/api/reservations/?page_size=1",
        )
    ]
    differences, _ = _compare(client, read_api(), seconds)
    assert differences == []


@pytest.mark.parametrize(
    "authorization",
    [None, "Token", "Token a b", "Token unknown-key", "Bearer xyz"],
)
def test_the_token_rules_alike_with_reads_closed(client, read_api, catalogue, settings, authorization):
    settings.API_READS_REQUIRE_AUTH = True
    headers = {"Authorization": authorization} if authorization else {}
    django_headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    from rest_framework.test import APIClient

    paths = ["/api/products/", f"/api/products/{catalogue['ids'][0]}/"]
    differences, answers = _compare(
        APIClient(), read_api(reads_require_auth=True), paths, headers=headers, django_headers=django_headers
    )
    assert differences == []
    assert {answer["status"] for answer in answers.values()} == {401}


def test_a_valid_token_reads_with_reads_closed_and_a_bad_one_is_refused_with_reads_open(client, read_api, settings):
    token = client._credentials["HTTP_AUTHORIZATION"]
    settings.API_READS_REQUIRE_AUTH = True
    differences, answers = _compare(
        client, read_api(reads_require_auth=True), ["/api/categories/"], headers={"Authorization": token}
    )
    assert differences == [] and answers["/api/categories/"]["status"] == 200
    settings.API_READS_REQUIRE_AUTH = False
    from rest_framework.test import APIClient

    bad = "Token not-a-key"
    differences, answers = _compare(
        APIClient(),
        read_api(),
        ["/api/categories/"],
        headers={"Authorization": bad},
        django_headers={"HTTP_AUTHORIZATION": bad},
    )
    assert differences == [] and answers["/api/categories/"]["status"] == 401
