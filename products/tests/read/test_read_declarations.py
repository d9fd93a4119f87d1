"""Each read table is declared in products/read/tables.py; its Django model, routing and rebuild follow it."""

from django.apps import apps

from cqrs_demo import routers
from products.read.tables import READ_TABLES


def _read_models():
    return {
        model._meta.db_table: model
        for model in apps.get_app_config("products").get_models()
        if routers.is_read_model(model)
    }


def test_every_declared_read_table_has_a_model_with_its_columns_routed_to_the_read_store():
    models = _read_models()
    for table in READ_TABLES:
        model = models.get(table.name)
        assert model is not None, f"{table.name}: no model in products/read/models.py with this db_table"
        assert {field.column for field in model._meta.concrete_fields} == set(table.column_names), table.name


def test_every_read_model_but_the_projectors_position_is_a_declared_read_table():
    declared = {table.name for table in READ_TABLES}
    assert set(_read_models()) - declared == {"read_projector_position"}


def test_the_read_sides_models_and_only_they_go_to_the_read_store():
    for model in apps.get_app_config("products").get_models():
        on_read_side = model.__module__ == "products.read.models"
        assert routers.is_read_model(model) == on_read_side, model.__name__
