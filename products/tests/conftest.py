"""Fixtures shared by every test: clients with and without permissions, and factories
that create data through the command bus, as the API does."""

import contextlib
import importlib
import itertools
from decimal import Decimal
from uuid import UUID

import psycopg2
import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cqrs_demo.bus import bus
from cqrs_demo.routers import read_query_alias, read_store_alias
from products.read.models import LocationView, ProductView
from products.read.tables import PRODUCTS
from products.sql import fetch_dicts
from products.tests import event_contract
from products.tests.kafka import kafka_broker, kafka_topic, own_kafka  # noqa: F401 (fixtures)
from products.tests.processes import command_env, manage  # noqa: F401 (fixtures)
from products.tests.rabbitmq import rabbitmq_queue  # noqa: F401 (fixture)
from products.write import commands
from products.write.models import MAIN_LOCATION, EventRecord, Location, Product

_sequence = itertools.count(1)

SPLIT = settings.CQRS_MODE == "split"


def pytest_collection_modifyitems(items):
    """In split mode, let every database test use the read database too."""
    if not SPLIT:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and "databases" not in marker.kwargs:
            item.add_marker(pytest.mark.django_db(*marker.args, **marker.kwargs, databases="__all__"), append=False)


def _test_database_slots(cursor, database):
    cursor.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = %s", [database]
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Drop the slots a killed run left on its test database: a replication slot keeps DROP DATABASE from working."""
    default = settings.DATABASES["default"]
    test_name = default.get("TEST", {}).get("NAME") or f"test_{default['NAME']}"

    def connect(dbname):
        options = {"dbname": dbname, "user": default["USER"], "host": default["HOST"], "port": default["PORT"]}
        connection = psycopg2.connect(**{key: value for key, value in options.items() if value}, **default["OPTIONS"])
        connection.autocommit = True
        return connection

    # The maintenance database: neither the configured one nor the test one need exist yet.
    with contextlib.closing(connect("postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_replication_slots WHERE database = %s)", [test_name])
        if not cursor.fetchone()[0]:
            return
    # A logical slot is dropped from a session in its own database.
    with contextlib.closing(connect(test_name)) as connection, connection.cursor() as cursor:
        _test_database_slots(cursor, test_name)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """In split mode, create the worker's slot once, outside every test's transaction; drop every slot at the end.

    Creating a slot waits for every transaction that has written to end, which a test's own
    transaction never would. The slot survives the tests that empty every table: a position
    that starts afresh skips what the slot holds from before (``products.read.worker``).
    """
    with django_db_blocker.unblock():
        if SPLIT:
            from products.events import feed
            from products.read import worker

            feed.ensure_slot(worker.slot())
    yield
    with django_db_blocker.unblock():
        connections["default"].close()  # the slot's database must have no session of this process left in a peek
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT current_database()")
            _test_database_slots(cursor, cursor.fetchone()[0])


_MAIN_MIGRATION = importlib.import_module("products.migrations.0005_location")


@pytest.fixture(autouse=True)
def _main_location(request):
    """Put back the main location a transactional test's flush deleted, as its migration writes it.

    Migrations write main (its row, its LocationCreated event, its read row); a test with
    ``transaction=True`` empties every table when it ends, and products need main.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    if not Location.objects.filter(code=MAIN_LOCATION).exists():
        migration = _MAIN_MIGRATION
        Location.objects.create(**migration.MAIN)
        Location.objects.filter(code=MAIN_LOCATION).update(
            created_at=migration.CREATED_AT, updated_at=migration.CREATED_AT
        )
        state = {**migration.MAIN, "created_at": migration.CREATED_AT_JSON, "updated_at": migration.CREATED_AT_JSON}
        EventRecord.objects.create(type="LocationCreated", payload={"code": MAIN_LOCATION, "location": state})
        LocationView.objects.create(**migration.MAIN, created_at=migration.CREATED_AT, updated_at=migration.CREATED_AT)
    if SPLIT:  # the worker starts past main's event, the only one in the log
        from products.read import worker

        worker.run()


@pytest.fixture(autouse=True)
def _events_keep_their_contract(request):
    """Check every event a database test appended, at its end, against its message in docs/asyncapi.yaml.

    So each event the suite produces, by Python or by SQL, in either mode, is checked as a
    consumer would receive it (one SELECT per test). Set up after the test's database (and torn
    down before it), so it sees what the test wrote before its transaction rolls back.
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db or request.node.get_closest_marker("events_before_the_contract"):
        yield
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in (
        request.fixturenames
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    mark = event_contract.last_event_id()
    yield
    event_contract.check_events_after(mark)


# The events the test's own transaction appended: no feed hands them over before it commits.
_OWN_EVENTS_SQL = """
    SELECT id, type, payload FROM products_event
     WHERE xact_id = pg_current_xact_id_if_assigned()::text::bigint AND id > %s ORDER BY id
"""


@pytest.fixture(autouse=True)
def _wait_for_projection(request, monkeypatch):
    """In split mode, apply the event log after every command: the tests read once lag is 0.

    A test that commits runs the worker; one inside a transaction that rolls back at its end
    has its own transaction's events applied by the worker's code, as the feed would once
    they committed.
    """
    marks = request.node.get_closest_marker
    if not SPLIT or marks("django_db") is None or marks("manual_projection") is not None:
        return
    from products.read import worker

    dispatch = bus.dispatch
    applied = [0]

    def project_own_events():
        if records := fetch_dicts(_OWN_EVENTS_SQL, [applied[0]]):
            with connections[read_store_alias()].cursor() as cursor:
                worker.apply_events(cursor, records)
            applied[0] = records[-1]["id"]

    transactional = marks("django_db").kwargs.get("transaction") or "transactional_db" in request.fixturenames
    project = worker.run if transactional else project_own_events

    def dispatch_then_project(command):
        result = dispatch(command)
        project()
        return result

    monkeypatch.setattr(bus, "dispatch", dispatch_then_project)


@pytest.fixture
def django_assert_num_queries(django_assert_num_queries):
    """Count the queries of the database that serves reads (the read store in split mode)."""

    def assert_num_queries(num, exact=True, connection=None, info=None):
        return django_assert_num_queries(num, exact, connection or connections[read_query_alias()], info)

    return assert_num_queries


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
        return bus.dispatch(commands.CreateCategory(slug=slug or f"category-{number}", name=name))["slug"]

    return make


@pytest.fixture
def make_product(db):
    def make(**fields):
        number = next(_sequence)
        values = {"sku": f"SKU-{number:05d}", "name": f"Product {number}", "price": Decimal("9.99")}
        values.update(fields)
        return UUID(bus.dispatch(commands.CreateProduct(**values))["id"])

    return make


@pytest.fixture
def archived_product(make_product):
    """Return the id of a product that was created with stock and then archived."""
    product_id = make_product(sku="GONE-1", initial_stock=5)
    bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-2))
    bus.dispatch(commands.ArchiveProduct(product_id=product_id))
    return product_id


READ_ROW_FIELDS = list(PRODUCTS.column_names)
_PRODUCT_COLUMNS = ", ".join(READ_ROW_FIELDS)


def _rows(sql):
    return fetch_dicts(sql, using=read_store_alias())


@pytest.fixture
def snapshot_read_tables(db):
    """Return a function that reads every read table in full, in a stable order."""

    def snapshot():
        return {
            "read_product": _rows(f"SELECT {_PRODUCT_COLUMNS} FROM read_product ORDER BY id"),
            "read_product_search": _rows("SELECT id, search_document::text FROM read_product_search ORDER BY id"),
            "read_stock_movement": _rows("SELECT * FROM read_stock_movement ORDER BY id"),
            "read_category": _rows("SELECT * FROM read_category ORDER BY slug"),
            "read_location": _rows("SELECT * FROM read_location ORDER BY code"),
        }

    return snapshot


@pytest.fixture
def expected_read_row(db):
    """Return a function that builds a product's read row from the write tables, in Python."""

    def expected(product_id):
        product = Product.objects.select_related("category").get(id=product_id)
        quantity = sum(level.quantity for level in product.stock_levels.all())
        return {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "category_slug": product.category.slug if product.category else None,
            "category_name": product.category.name if product.category else None,
            "price": product.price,
            "quantity": quantity,
            "reorder_point": product.reorder_point,
            "version": product.version,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
        }

    return expected


@pytest.fixture
def read_row(db):
    """Return a function that reads a product's read row (None when it has none)."""

    def read(product_id):
        return ProductView.objects.filter(id=product_id).values(*READ_ROW_FIELDS).first()

    return read
