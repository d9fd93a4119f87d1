"""Database routing: read tables to the read store or replicas, everything else to the primary."""

import pytest

from cqrs_demo import routers
from products.read.models import CategoryView, ProductView
from products.write.models import EventRecord, Product


def test_single_database_mode_routes_everything_to_default(settings):
    settings.READ_REPLICA_ALIASES = []
    router = routers.ReadModelRouter()
    if "read" in settings.DATABASES:
        pytest.skip("this run is in split mode")
    assert router.db_for_read(ProductView) == "default"
    assert router.db_for_write(ProductView) == "default"
    assert router.db_for_read(Product) == "default"


def test_replicas_serve_read_models_only(settings):
    settings.READ_REPLICA_ALIASES = ["replica_0", "replica_1"]
    router = routers.ReadModelRouter()
    assert {router.db_for_read(ProductView) for _ in range(50)} == {"replica_0", "replica_1"}
    assert router.db_for_read(CategoryView) in {"replica_0", "replica_1"}
    # Writes, and reads of write models (what responses to writes are built from), go to the primary.
    assert router.db_for_write(ProductView) == routers.read_store_alias()
    assert router.db_for_read(Product) == "default"
    assert router.db_for_read(EventRecord) == "default"
    assert router.allow_migrate("replica_0", "products", "productview") is False


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")  # routing only; no connection is opened
def test_split_mode_keeps_read_tables_out_of_the_write_database(settings):
    settings.DATABASES = {**settings.DATABASES, "read": settings.DATABASES["default"]}
    settings.READ_REPLICA_ALIASES = []
    router = routers.ReadModelRouter()
    assert router.db_for_read(ProductView) == "read"
    assert router.db_for_write(ProductView) == "read"
    assert router.allow_migrate("read", "products", "productview") is True
    assert router.allow_migrate("read", "products", "product") is False
    assert router.allow_migrate("read", "auth", "user") is False
    assert router.allow_migrate("default", "products", "productview") is False
    assert router.allow_migrate("default", "products", "product") is None
