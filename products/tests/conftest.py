"""Fixtures shared by every test: clients with and without permissions, and factories
that create data through the command bus, as the API does."""

import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cqrs_demo.bus import bus
from products import commands

_sequence = itertools.count(1)


@pytest.fixture
def anon_client():
    return APIClient()


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def client(admin_user):
    """An API client authenticated by token as a superuser."""
    return _token_client(admin_user)


@pytest.fixture
def plain_client(django_user_model):
    """An API client authenticated by token as a user without any permission."""
    return _token_client(django_user_model.objects.create_user("plain", password="pw"))


@pytest.fixture
def clerk_client(django_user_model):
    """An API client whose user may change stock but nothing else."""
    user = django_user_model.objects.create_user("clerk", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="change_stocklevel"))
    return _token_client(user)


@pytest.fixture
def make_category(db):
    def make(name=None, slug=None):
        number = next(_sequence)
        name = name or f"Category {number}"
        return bus.dispatch(commands.CreateCategory(slug=slug or f"category-{number}", name=name))

    return make


@pytest.fixture
def make_product(db):
    def make(**fields):
        number = next(_sequence)
        values = {"sku": f"SKU-{number:05d}", "name": f"Product {number}", "price": Decimal("9.99")}
        values.update(fields)
        return bus.dispatch(commands.CreateProduct(**values))

    return make
