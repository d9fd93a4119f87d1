"""Random sequences of every command, refused ones included, keep every invariant: the read
tables are what the write tables imply, each ledger adds up to its stock at each location, no
stock is negative, and a refused command changes nothing at all."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from cqrs_demo.bus import bus
from products.errors import (
    CategoryNotFoundError,
    DomainError,
    DuplicateCategoryError,
    DuplicateSkuError,
    InactiveLocationError,
    InsufficientStockError,
    ProductNotFoundError,
    StockLimitError,
    UnknownCategoryError,
    UnknownLocationError,
    VersionMismatchError,
)
from products.read import rebuild
from products.tests.robustness.conftest import snapshot_tables
from products.write import commands
from products.write.commands import UNSET
from products.write.models import MAIN_LOCATION, MAX_QUANTITY, Category, Product, StockLevel

REFUSED = object()  # what _dispatch returns for a command the domain refused

CATEGORY_SLUGS = ["tools", "garden", "paint"]
SKUS = ["ab-1", "AB-1", "Ab-1", "cd.2", "CD.2", "ef_3"]  # case variants of a few SKUs collide
UNKNOWN_PRODUCT = uuid.UUID("00000000-0000-4000-8000-000000000000")
SECOND_LOCATION = "east"  # created at setup, made inactive and active again by a rule

# Tables cleared before each example, children first.
TABLES = (
    "read_stock_movement",
    "read_stock_level",
    "read_product",
    "read_category",
    "products_stockmovement",
    "products_stocklevel",
    "products_product",
    "products_category",
)

texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30)
prices = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False)


def rarely(common, rare):
    """Draw from ``rare`` one time in ten, else from ``common``."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else common)


versions = rarely(st.sampled_from(["any", "current"]), st.just("stale"))
locations = rarely(st.sampled_from([MAIN_LOCATION, SECOND_LOCATION]), st.just("nowhere"))


@dataclass
class ModelProduct:
    sku: str
    stock: dict  # location code -> quantity, for each location that ever held it
    version: int = 1
    archived: bool = False


class CommandMachine(RuleBasedStateMachine):
    """Drive the bus with random commands and keep a model of what each should do."""

    products = Bundle("products")
    some_product = rarely(products, st.just(UNKNOWN_PRODUCT))

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint rolled back by teardown(), so one that fails on a
        # database error leaves the next a usable connection and the tables as they were.
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")
        self.categories = {}  # slug -> name
        self.model = {}  # product id -> ModelProduct
        self.locations = {MAIN_LOCATION: True}  # code -> is_active

    @initialize(target=products)
    def create_a_category_a_location_and_two_products(self):
        self.create_category("tools", "Tools")
        bus.dispatch(commands.CreateLocation(code=SECOND_LOCATION, name="East"))
        self.locations[SECOND_LOCATION] = True
        return multiple(
            self.create_product("ab-1", "Hammer", Decimal("9.50"), 20, "tools"),
            self.create_product("xy-9", "Saw", Decimal("12.00"), 5, None),
        )

    def _dispatch(self, command, expected_error):
        """Dispatch ``command``; check it fails exactly when and how the model says, changing nothing then."""
        before = snapshot_tables()
        try:
            result = bus.dispatch(command)
        except DomainError as error:
            assert expected_error is not None, f"{command} was refused ({error!r}); the model expected success"
            assert isinstance(error, expected_error), f"{command} raised {error!r}, expected {expected_error}"
            assert snapshot_tables() == before, f"the refused {command} changed the database"
            return REFUSED
        assert expected_error is None, f"{command} succeeded; the model expected {expected_error.__name__}"
        return result

    def _active(self, product_id):
        product = self.model.get(product_id)
        return product if product is not None and not product.archived else None

    def _expected_version(self, product_id, choice):
        product = self.model.get(product_id)
        current = product.version if product else 1
        return {"any": None, "current": current, "stale": current - 1 if current > 1 else current + 1}[choice]

    def _write_error(self, product_id, expected_version):
        """Return the error a write to ``product_id`` at ``expected_version`` must raise, if any."""
        product = self._active(product_id)
        if product is None:
            return ProductNotFoundError
        if expected_version is not None and expected_version != product.version:
            return VersionMismatchError
        return None

    @rule(slug=st.sampled_from(CATEGORY_SLUGS), name=texts)
    def create_category(self, slug, name):
        expected = DuplicateCategoryError if slug in self.categories else None
        if self._dispatch(commands.CreateCategory(slug=slug, name=name[:100]), expected) is not REFUSED:
            self.categories[slug] = name[:100]

    @rule(slug=st.sampled_from([*CATEGORY_SLUGS, "unknown"]), name=texts)
    def rename_category(self, slug, name):
        expected = None if slug in self.categories else CategoryNotFoundError
        if self._dispatch(commands.RenameCategory(slug=slug, name=name[:100]), expected) is not REFUSED:
            self.categories[slug] = name[:100]

    @rule(
        target=products,
        sku=st.sampled_from(SKUS),
        name=texts,
        price=prices,
        initial_stock=rarely(st.integers(0, 40), st.just(MAX_QUANTITY + 1)),
        category=st.sampled_from([None, *CATEGORY_SLUGS]),
    )
    def create_product(self, sku, name, price, initial_stock, category):
        if initial_stock > MAX_QUANTITY:
            expected = StockLimitError
        elif category is not None and category not in self.categories:
            expected = UnknownCategoryError
        elif any(product.sku.lower() == sku.lower() for product in self.model.values()):
            expected = DuplicateSkuError  # archived products keep their SKU too
        else:
            expected = None
        command = commands.CreateProduct(
            sku=sku, name=name, price=price, category=category, initial_stock=initial_stock
        )
        product = self._dispatch(command, expected)
        if product is REFUSED:
            return multiple()
        product_id = uuid.UUID(product["id"])
        self.model[product_id] = ModelProduct(sku=sku, stock={MAIN_LOCATION: initial_stock})
        return product_id

    def _location_error(self, code):
        if code not in self.locations:
            return UnknownLocationError
        return None if self.locations[code] else InactiveLocationError

    @rule(active=st.booleans())
    def change_the_second_location(self, active):
        self._dispatch(commands.ChangeLocation(code=SECOND_LOCATION, is_active=active), None)
        self.locations[SECOND_LOCATION] = active

    @rule(
        product_id=some_product,
        name=st.one_of(st.just(UNSET), texts),
        price=st.one_of(st.just(UNSET), prices),
        category=st.sampled_from([UNSET, None, *CATEGORY_SLUGS]),
        version=versions,
    )
    def update_product_details(self, product_id, name, price, category, version):
        expected_version = self._expected_version(product_id, version)
        if category not in (UNSET, None) and category not in self.categories:
            expected = UnknownCategoryError
        else:
            expected = self._write_error(product_id, expected_version)
        command = commands.UpdateProductDetails(
            product_id=product_id, name=name, price=price, category=category, expected_version=expected_version
        )
        if self._dispatch(command, expected) is not REFUSED:
            self.model[product_id].version += 1

    @rule(product_id=some_product, version=versions)
    def archive_product(self, product_id, version):
        expected_version = self._expected_version(product_id, version)
        expected = self._write_error(product_id, expected_version)
        command = commands.ArchiveProduct(product_id=product_id, expected_version=expected_version)
        if self._dispatch(command, expected) is not REFUSED:
            self.model[product_id].version += 1
            self.model[product_id].archived = True

    @rule(
        product_id=some_product,
        delta=rarely(st.integers(-30, 30).filter(bool), st.sampled_from([-MAX_QUANTITY, MAX_QUANTITY])),
        version=versions,
        location=locations,
    )
    def adjust_stock(self, product_id, delta, version, location):
        expected_version = self._expected_version(product_id, version)
        expected = self._write_error(product_id, expected_version) or self._location_error(location)
        if expected is None:
            after = self.model[product_id].stock.get(location, 0) + delta
            expected = InsufficientStockError if after < 0 else StockLimitError if after > MAX_QUANTITY else None
        command = commands.AdjustStock(
            product_id=product_id, delta=delta, expected_version=expected_version, location=location
        )
        if self._dispatch(command, expected) is not REFUSED:
            self.model[product_id].stock[location] = self.model[product_id].stock.get(location, 0) + delta
            self.model[product_id].version += 1

    @rule(
        product_id=some_product,
        quantity=rarely(st.integers(0, 40), st.sampled_from([-1, MAX_QUANTITY, MAX_QUANTITY + 1])),
        version=versions,
        location=locations,
    )
    def set_stock(self, product_id, quantity, version, location):
        expected_version = self._expected_version(product_id, version)
        if not 0 <= quantity <= MAX_QUANTITY:
            expected = StockLimitError
        else:
            expected = self._write_error(product_id, expected_version) or self._location_error(location)
        command = commands.SetStock(
            product_id=product_id, quantity=quantity, expected_version=expected_version, location=location
        )
        if self._dispatch(command, expected) is not REFUSED:
            self.model[product_id].stock[location] = quantity
            self.model[product_id].version += 1

    def teardown(self):
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    @invariant()
    def read_tables_equal_what_the_write_tables_imply(self):
        assert rebuild.differences() == []

    @invariant()
    def ledgers_add_up_and_no_stock_is_negative(self):
        with connection.cursor() as cursor:
            # At each location, and so over them all.
            cursor.execute(
                "SELECT s.product_id, s.location_id, s.quantity, l.total FROM products_stocklevel s"
                " FULL JOIN (SELECT product_id, location_id, sum(delta) AS total FROM products_stockmovement"
                "            GROUP BY product_id, location_id) l"
                "   ON l.product_id = s.product_id AND l.location_id = s.location_id"
                " WHERE l.total IS DISTINCT FROM s.quantity OR s.quantity < 0"
            )
            assert cursor.fetchall() == []
            # Each ledger row's quantity_after is the running sum of the deltas at its location up to it.
            cursor.execute(
                "SELECT id FROM (SELECT id, quantity_after, sum(delta)"
                "  OVER (PARTITION BY product_id, location_id ORDER BY id) AS running FROM products_stockmovement) m"
                " WHERE running <> quantity_after OR quantity_after < 0"
            )
            assert cursor.fetchall() == []

    @invariant()
    def write_tables_match_the_model(self):
        stock = {}
        for product_id, code, quantity in StockLevel.objects.values_list("product_id", "location__code", "quantity"):
            stock.setdefault(product_id, {})[code] = quantity
        actual = {
            row["id"]: ModelProduct(row["sku"], stock[row["id"]], row["version"], row["is_archived"])
            for row in Product.objects.values("id", "sku", "version", "is_archived")
        }
        assert actual == self.model
        assert dict(Category.objects.values_list("slug", "name")) == self.categories


@pytest.mark.slow
@pytest.mark.django_db
def test_random_command_sequences_keep_every_invariant():
    run_state_machine_as_test(CommandMachine, settings=settings(max_examples=25, stateful_step_count=20, deadline=None))
