"""Idempotency-Key on POST: applied once, replayed on retries, refused when misused."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from products.http.models import IdempotencyKey
from products.write.models import Product, StockLevel, StockMovement

pytestmark = pytest.mark.django_db

NEW = {"sku": "IK-1", "name": "Keyed", "price": "3.00", "initial_stock": 5}


def post(client, path, body, key, **headers):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_retry_with_same_key_and_body_replays_the_first_response(client):
    first = post(client, "/api/products/", NEW, "k-1")
    again = post(client, "/api/products/", dict(reversed(list(NEW.items()))), "k-1")  # same JSON, other key order
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 1


def test_same_key_with_another_body_is_refused_with_422(client):
    post(client, "/api/products/", NEW, "k-2")
    response = post(client, "/api/products/", {**NEW, "name": "Other"}, "k-2")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Product.objects.get().name == "Keyed"


def test_stock_adjustment_with_a_key_applies_once(client, make_product):
    product_id = make_product(initial_stock=10)
    path = f"/api/products/{product_id}/stock/"
    responses = [post(client, path, {"delta": -3}, "sale-42") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert {r.json()["quantity"] for r in responses} == {7}
    assert StockLevel.objects.get(product_id=product_id).quantity == 7
    assert StockMovement.objects.filter(product_id=product_id).count() == 2


def test_refusals_are_replayed_too(client, make_product):
    product_id = make_product(initial_stock=1)
    path = f"/api/products/{product_id}/stock/"
    first = post(client, path, {"delta": -5}, "k-3")
    assert first.status_code == 409
    client.post(path, {"delta": 10}, format="json")  # stock arrives in between
    again = post(client, path, {"delta": -5}, "k-3")
    assert (again.status_code, again.json()) == (409, first.json())


def test_keys_are_scoped_per_user(client, django_user_model, anon_client):
    other = django_user_model.objects.create_superuser("other", "o@example.com", "pw")
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    assert post(client, "/api/products/", NEW, "shared").status_code == 201
    # Another user's identical key is a different request: it runs (and hits the duplicate SKU).
    response = post(anon_client, "/api/products/", NEW, "shared")
    assert response.status_code == 400
    assert "sku" in response.json()


def test_a_key_over_255_characters_is_refused(client):
    response = post(client, "/api/products/", NEW, "x" * 256)
    assert response.status_code == 400
    assert Product.objects.count() == 0


def test_purge_deletes_only_expired_keys(client):
    post(client, "/api/products/", NEW, "old")
    post(client, "/api/products/", {**NEW, "sku": "IK-2"}, "new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    call_command("purge_idempotency_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_requests_with_one_key_apply_once(live_server, admin_user, make_product):
    product_id = make_product(initial_stock=100)
    token = Token.objects.create(user=admin_user).key
    url = f"{live_server.url}/api/products/{product_id}/stock/"

    def send(_):
        request = urllib.request.Request(
            url,
            data=json.dumps({"delta": -1}).encode(),
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json", "Idempotency-Key": "p"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(send, range(10)))
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    assert StockLevel.objects.get(product_id=product_id).quantity == 99
    assert StockMovement.objects.filter(product_id=product_id).count() == 2
