"""Who may read and write: open reads, token auth first (401), model permissions (403)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from products.write.models import Category, Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(make_product):
    return make_product(initial_stock=5)


@pytest.fixture
def writes(product, make_category):
    """Return every write endpoint as (method, url, body)."""
    slug = make_category()
    return [
        ("post", "/api/categories/", {"name": "New"}),
        ("patch", f"/api/categories/{slug}/", {"name": "Renamed"}),
        ("post", "/api/products/", {"sku": "NEW-1", "name": "New", "price": "1.00"}),
        ("patch", f"/api/products/{product}/", {"name": "Renamed"}),
        ("put", f"/api/products/{product}/", {"name": "Renamed", "description": "", "category": None, "price": "2"}),
        ("delete", f"/api/products/{product}/", None),
        ("post", f"/api/products/{product}/stock/", {"delta": 1}),
    ]


def unchanged(product):
    return (
        not Category.objects.filter(name__in=["New", "Renamed"]).exists()
        and Product.objects.count() == 1
        and Product.objects.get(id=product).version == 1
        and StockLevel.objects.get(product_id=product).quantity == 5
    )


def test_anonymous_writes_are_401_and_change_nothing(anon_client, writes, product):
    for method, url, body in writes:
        response = getattr(anon_client, method)(url, body)
        assert response.status_code == 401, (method, url)
        assert "detail" in response.json()
        assert response["WWW-Authenticate"] == "Token"
    assert unchanged(product)


def test_an_invalid_token_is_401_even_for_reads(make_product):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/products/").status_code == 401
    assert client.post("/api/products/", {"sku": "A", "name": "A", "price": "1"}).status_code == 401


def test_a_deactivated_users_token_is_401_and_an_active_ones_names_the_user(django_user_model, writes, product):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.post(f"/api/products/{product}/stock/", {"delta": 1}, format="json")
    assert response.status_code == 200
    assert StockMovement.objects.filter(product_id=product).latest("id").created_by == user
    user.is_active = False
    user.save()
    response = client.post(f"/api/products/{product}/stock/", {"delta": 1}, format="json")
    assert (response.status_code, response.json()["detail"]) == (401, "User inactive or deleted.")


def test_users_without_permission_get_403_and_change_nothing(plain_client, writes, product):
    for method, url, body in writes:
        response = getattr(plain_client, method)(url, body)
        assert response.status_code == 403, (method, url)
        assert "detail" in response.json()
    assert unchanged(product)


def test_a_stock_clerk_may_change_stock_but_nothing_else(clerk_client, writes, product):
    for method, url, body in writes[:-1]:
        assert getattr(clerk_client, method)(url, body).status_code == 403, (method, url)
    assert unchanged(product)
    response = clerk_client.post(f"/api/products/{product}/stock/", {"delta": -2})
    assert response.status_code == 200
    assert response.json()["quantity"] == 3


def test_session_login_allows_writes_for_the_browsable_api(admin_user):
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(admin_user)
    assert client.post("/api/categories/", {"name": "Tools"}).status_code == 201


def test_reads_are_open_to_anonymous_clients(anon_client, product):
    for url in (
        "/api/",
        "/api/products/",
        f"/api/products/{product}/",
        f"/api/products/{product}/stock/",
        f"/api/products/{product}/stock/movements/",
        "/api/categories/",
    ):
        assert anon_client.get(url).status_code == 200, url


def test_closed_reads_need_authentication(settings, anon_client, plain_client, product):
    settings.API_READS_REQUIRE_AUTH = True
    for url in (
        "/api/products/",
        f"/api/products/{product}/",
        f"/api/products/{product}/stock/",
        f"/api/products/{product}/stock/movements/",
        "/api/categories/",
    ):
        response = anon_client.get(url)
        assert response.status_code == 401, url
        assert "detail" in response.json()
        assert plain_client.get(url).status_code == 200, url
