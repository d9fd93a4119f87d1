"""Each read table is declared once, in products/read/tables.py; its Django model, routing and rebuild follow it."""

import pytest
from django.apps import apps

from cqrs_demo import routers
from products.read import models as read_models
from products.read.tables import READ_TABLES


def _read_models():
    return {
        model._meta.db_table: model
        for model in apps.get_app_config("products").get_models()
        if routers.is_read_model(model)
    }


def test_every_declared_read_table_has_a_registered_model_with_its_columns_and_key():
    registered = _read_models()
    for table in READ_TABLES:
        model = registered.get(table.name)
        assert model is not None, f"{table.name}: Django knows no model of it"
        # Migrations and code name the model by its declared class name.
        assert apps.get_model("products", table.model) is model
        assert getattr(read_models, table.model) is model
        assert [field.column for field in model._meta.concrete_fields] == list(table.column_names), table.name
        assert model._meta.pk.column == table.key, table.name
        assert {index.name for index in model._meta.indexes} == {index.name for index in table.indexes}


def test_a_model_built_from_a_declaration_leaves_the_declared_fields_unbound():
    # The declarations stay reusable (a second model, a rebuild's copy): Django binds the copies.
    for table in READ_TABLES:
        for column in table.columns:
            assert not hasattr(column.field, "model"), f"{table.name}.{column.name}"
            assert not column.field.primary_key, f"{table.name}.{column.name}: the key is the table's `key`"


def test_every_read_model_but_the_projectors_position_is_a_declared_read_table():
    declared = {table.name for table in READ_TABLES}
    assert set(_read_models()) - declared == {"read_projector_position"}


def test_the_read_sides_models_and_only_they_go_to_the_read_store():
    for model in apps.get_app_config("products").get_models():
        on_read_side = model.__module__ == "products.read.models"
        assert routers.is_read_model(model) == on_read_side, model.__name__


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # routing only; no connection is opened
def test_in_split_mode_every_declared_read_table_is_created_and_queried_in_the_read_database(settings):
    settings.DATABASES = {**settings.DATABASES, "read": settings.DATABASES["default"]}
    settings.READ_REPLICA_ALIASES = []
    router = routers.ReadModelRouter()
    for table in READ_TABLES:
        model = apps.get_model("products", table.model)
        assert (router.db_for_read(model), router.db_for_write(model)) == ("read", "read"), table.name
        assert router.allow_migrate("read", "products", model._meta.model_name) is True, table.name
        assert router.allow_migrate("default", "products", model._meta.model_name) is False, table.name
