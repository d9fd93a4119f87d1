"""Random sequences of every command, refused ones included, keep every invariant: the read
tables are what the write tables imply, each ledger adds up to its stock at each location, no
stock is negative nor below what active reservations hold there, the stock the API shows
(reserved, available) is the model's, and a refused command changes nothing at all.

Reservations are placed, committed, released, extended and left to lapse (their expiry moved
into the past in the write tables and the read store alike, as time passing would), and
ExpireReservations records the lapsed ones. In split mode the worker applies the log after
every command (the autouse fixture in products/tests/conftest.py)."""

import datetime
import functools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from hypothesis import event, settings
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
from cqrs_demo.routers import read_store_alias
from products.errors import (
    CategoryNotFoundError,
    DomainError,
    DuplicateCategoryError,
    DuplicateLineError,
    DuplicateSkuError,
    InactiveLocationError,
    InsufficientStockError,
    ProductNotFoundError,
    ReservationCommittedError,
    ReservationExpiredError,
    ReservationNotFoundError,
    ReservationReleasedError,
    StockLimitError,
    UnknownCategoryError,
    UnknownLocationError,
    UnknownProductError,
    VersionMismatchError,
)
from products.read import queries, rebuild
from products.read import tables as read_tables
from products.tests.support import lapse
from products.write import commands
from products.write.commands import UNSET
from products.write.models import MAIN_LOCATION, MAX_QUANTITY, Category, Product, Reservation, StockLevel

REFUSED = object()  # what _dispatch returns for a command the domain refused

CATEGORY_SLUGS = ["tools", "garden", "paint"]
SKUS = ["ab-1", "AB-1", "Ab-1", "cd.2", "CD.2", "ef_3"]  # case variants of a few SKUs collide
UNKNOWN_PRODUCT = uuid.UUID("00000000-0000-4000-8000-000000000000")
UNKNOWN_RESERVATION = uuid.UUID("00000000-0000-4000-8000-00000000000f")
SECOND_LOCATION = "east"  # created at setup, made inactive and active again by a rule
EXPIRES_IN = 3600  # seconds: no reservation lapses by itself during a run, only by the lapse rule

# Tables cleared before each example, children first: the read store's, then the write side's.
# Every declared read table but the locations', whose rows the model keeps across examples as
# it keeps the locations themselves.
READ_TABLES = tuple(table.name for table in read_tables.READ_TABLES if table is not read_tables.LOCATIONS)
TABLES = (
    "products_reservationline",
    "products_reservation",
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
# A reservation's lines: mostly at main, a few over what is available.
line_locations = rarely(st.sampled_from([MAIN_LOCATION, MAIN_LOCATION, SECOND_LOCATION]), st.just("nowhere"))
line_quantities = rarely(st.integers(1, 6), st.integers(7, 60))


def _databases():
    """The write database, then the read store (the same one in single-database mode)."""
    return list(dict.fromkeys(["default", read_store_alias()]))


@functools.cache
def _tables(alias):
    """The write and read tables of database ``alias``."""
    with connections[alias].cursor() as cursor:
        names = connections[alias].introspection.table_names(cursor)
    return sorted(t for t in names if t.startswith(("products_", "read_")))


def snapshot_tables():
    """Return every row of every write and read table, of both databases in split mode."""
    snapshot = {}
    for alias in _databases():
        with connections[alias].cursor() as cursor:
            for table in _tables(alias):
                # Column 1 is each table's key; tsvector and other unusual types come back as text.
                cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
                snapshot[alias, table] = cursor.fetchall()
    assert {table for _alias, table in snapshot} >= {*TABLES, *READ_TABLES}
    return snapshot


@dataclass
class ModelProduct:
    sku: str
    stock: dict  # location code -> quantity, for each location that ever held it
    version: int = 1
    archived: bool = False
    # name, price and category: a change to the values they have already is no change (no new version).
    details: dict = field(default_factory=dict, compare=False)


@dataclass
class ModelReservation:
    lines: tuple  # of (product id, location code, quantity)
    status: str = "active"  # as stored: active, committed, released, expired
    lapsed: bool = False  # its expiry is in the past (an active one then holds nothing)

    @property
    def holding(self):
        return self.status == "active" and not self.lapsed


class CommandMachine(RuleBasedStateMachine):
    """Drive the bus with random commands and keep a model of what each should do."""

    products = Bundle("products")
    some_product = rarely(products, st.just(UNKNOWN_PRODUCT))
    reservations = Bundle("reservations")
    some_reservation = rarely(reservations, st.just(UNKNOWN_RESERVATION))

    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint (of each database) rolled back by teardown(), so one
        # that fails on a database error leaves the next a usable connection and the tables as they were.
        self._savepoints = [transaction.atomic(using=alias) for alias in _databases()]
        for savepoint in self._savepoints:
            savepoint.__enter__()
        with connections[read_store_alias()].cursor() as cursor:
            for table in READ_TABLES:
                cursor.execute(f"DELETE FROM {table}")
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")
        self.categories = {}  # slug -> name
        self.model = {}  # product id -> ModelProduct
        self.locations = {MAIN_LOCATION: True}  # code -> is_active
        self.reservations = {}  # reservation id -> ModelReservation
        self.lapses = 0  # how many expiries the lapse rule moved into the past

    @initialize(target=products)
    def create_a_category_a_location_and_two_products(self):
        self.create_category("tools", "Tools")
        bus.dispatch(commands.CreateLocation(code=SECOND_LOCATION, name="East"))
        self.locations[SECOND_LOCATION] = True
        created = [
            self.create_product("ab-1", "Hammer", Decimal("9.50"), 20, "tools"),
            self.create_product("xy-9", "Saw", Decimal("12.00"), 5, None),
        ]
        for product_id in created:  # some stock at the second location too, for reservations to hold there
            self.adjust_stock(product_id, 10, "any", SECOND_LOCATION)
        return multiple(*created)

    def _dispatch(self, command, expected_error):
        """Dispatch ``command``; check it fails exactly when and how the model says, changing nothing then.

        ``expected_error``: None (it must succeed), an error class, or a tuple of them (any will do).
        """
        before = snapshot_tables() if expected_error is not None else None
        try:
            result = bus.dispatch(command)
        except DomainError as error:
            assert expected_error is not None, f"{command} was refused ({error!r}); the model expected success"
            assert isinstance(error, expected_error), f"{command} raised {error!r}, expected {expected_error}"
            assert snapshot_tables() == before, f"the refused {command} changed the database"
            event(f"{type(command).__name__}: {type(error).__name__}")  # --hypothesis-show-statistics
            return REFUSED
        assert expected_error is None, f"{command} succeeded; the model expected {expected_error}"
        event(f"{type(command).__name__}: done")
        return result

    def _held(self, product_id, location):
        """Return what the model's holding reservations hold of ``product_id`` at ``location``."""
        return sum(
            quantity
            for reservation in self.reservations.values()
            if reservation.holding
            for line_product, line_location, quantity in reservation.lines
            if (line_product, line_location) == (product_id, location)
        )

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
        self.model[product_id] = ModelProduct(
            sku=sku, stock={MAIN_LOCATION: initial_stock}, details={"name": name, "price": price, "category": category}
        )
        return product_id

    def _location_error(self, code):
        if code not in self.locations:
            return UnknownLocationError
        return None if self.locations[code] else InactiveLocationError

    @rule(active=st.booleans())
    def change_the_second_location(self, active):
        # Deactivating it leaves the reservations holding stock there; none of them commits until it is active again.
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
            product = self.model[product_id]
            sent = {"name": name, "price": price, "category": category}
            changes = {key: value for key, value in sent.items() if value not in (UNSET, product.details[key])}
            if changes:
                product.version += 1
                product.details.update(changes)

    @rule(product_id=some_product, version=versions)
    def archive_product(self, product_id, version):
        expected_version = self._expected_version(product_id, version)
        expected = self._write_error(product_id, expected_version)
        command = commands.ArchiveProduct(product_id=product_id, expected_version=expected_version)
        # Archiving leaves the reservations holding it: they cannot be committed any more, only released.
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
            if after < 0 or (delta < 0 and after < self._held(product_id, location)):
                expected = InsufficientStockError
            else:
                expected = StockLimitError if after > MAX_QUANTITY else None
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
        if expected is None and quantity < self._held(product_id, location):
            expected = InsufficientStockError
        command = commands.SetStock(
            product_id=product_id, quantity=quantity, expected_version=expected_version, location=location
        )
        if self._dispatch(command, expected) is not REFUSED:
            self.model[product_id].stock[location] = quantity
            self.model[product_id].version += 1

    @rule(
        target=reservations,
        lines=st.lists(st.tuples(some_product, line_locations, line_quantities), min_size=1, max_size=2),
    )
    def place_reservation(self, lines):
        keys = [(product_id, location) for product_id, location, _quantity in lines]
        if len(set(keys)) != len(keys):
            expected = DuplicateLineError
        elif any(self._active(product_id) is None for product_id, _location, _quantity in lines):
            expected = UnknownProductError
        elif any(self._location_error(location) for _product_id, location, _quantity in lines):
            expected = next(
                self._location_error(location) for _p, location, _q in lines if self._location_error(location)
            )
        elif any(
            self.model[product_id].stock.get(location, 0) - self._held(product_id, location) < quantity
            for product_id, location, quantity in lines
        ):
            expected = InsufficientStockError
        else:
            expected = None
        command = commands.PlaceReservation(
            lines=tuple(commands.ReservationLine(product_id=p, quantity=q, location=loc) for p, loc, q in lines),
            expires_in=EXPIRES_IN,
        )
        placed = self._dispatch(command, expected)
        if placed is REFUSED:
            return multiple()
        reservation_id = uuid.UUID(placed["id"])
        self.reservations[reservation_id] = ModelReservation(lines=tuple(lines))
        return reservation_id

    def _ended_error(self, reservation_id, *, commit=False):
        """Return the error a commit (``commit``), release or extension of ``reservation_id`` must raise, if any."""
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            return ReservationNotFoundError
        if reservation.status == "committed":
            return ReservationCommittedError
        if reservation.status == "released":
            return ReservationReleasedError
        holding = reservation.status == "active" and not reservation.lapsed
        archived = any(self.model[product_id].archived for product_id, _location, _quantity in reservation.lines)
        if holding and archived and commit:
            return UnknownProductError  # a product it holds was archived: release it
        inactive = any(not self.locations[location] for _product_id, location, _quantity in reservation.lines)
        if holding and inactive and commit:
            return InactiveLocationError  # one of its locations takes no stock now: release it, or reactivate it
        if reservation.status == "expired" or reservation.lapsed:
            return ReservationExpiredError
        return None

    @rule(reservation_id=some_reservation)
    def commit_reservation(self, reservation_id):
        command = commands.CommitReservation(reservation_id=reservation_id)
        result = self._dispatch(command, self._ended_error(reservation_id, commit=True))
        if result is REFUSED:
            return
        assert result["status"] == "committed"
        reservation = self.reservations[reservation_id]
        reservation.status = "committed"
        for product_id, location, quantity in reservation.lines:
            self.model[product_id].stock[location] -= quantity
            self.model[product_id].version += 1  # once per line, as a batch's lines do

    @rule(reservation_id=some_reservation)
    def release_reservation(self, reservation_id):
        command = commands.ReleaseReservation(reservation_id=reservation_id)
        if self._dispatch(command, self._ended_error(reservation_id)) is not REFUSED:
            self.reservations[reservation_id].status = "released"

    @rule(reservation_id=some_reservation, expires_in=st.sampled_from([EXPIRES_IN, 2 * EXPIRES_IN]))
    def extend_reservation(self, reservation_id, expires_in):
        command = commands.ExtendReservation(reservation_id=reservation_id, expires_in=expires_in)
        result = self._dispatch(command, self._ended_error(reservation_id))
        if result is not REFUSED:
            assert result["status"] == "active"

    def _lines_error(self, keys):
        """Return the error lines naming ``keys`` ((product, location) pairs) must raise before their amounts count."""
        if len(set(keys)) != len(keys):
            return DuplicateLineError
        if any(self._active(product_id) is None for product_id, _location in keys):
            return UnknownProductError
        return next((self._location_error(location) for _p, location in keys if self._location_error(location)), None)

    def _breaks_stock_rules(self, product_id, location, after):
        return not self._held(product_id, location) <= after <= MAX_QUANTITY

    @rule(
        lines=st.lists(
            st.tuples(
                some_product,
                locations,
                st.one_of(
                    st.tuples(st.just("delta"), rarely(st.integers(-15, 15).filter(bool), st.just(MAX_QUANTITY))),
                    st.tuples(st.just("quantity"), rarely(st.integers(0, 40), st.sampled_from([-1, MAX_QUANTITY + 1]))),
                ),
            ),
            min_size=1,
            max_size=3,
        )
    )
    def adjust_stock_batch(self, lines):
        expected = self._lines_error([(product_id, location) for product_id, location, _change in lines])
        after = {}
        if expected is None:
            for product_id, location, (kind, amount) in lines:
                on_hand = self.model[product_id].stock.get(location, 0)
                after[product_id, location] = amount if kind == "quantity" else on_hand + amount
            if any(self._breaks_stock_rules(*key, quantity) for key, quantity in after.items()):
                expected = InsufficientStockError
        command = commands.AdjustStockBatch(
            lines=tuple(
                commands.BatchLine(product_id=product_id, location=location, **{kind: amount})
                for product_id, location, (kind, amount) in lines
            ),
            reason="batch",
        )
        if self._dispatch(command, expected) is not REFUSED:
            for (product_id, location), quantity in after.items():
                self.model[product_id].stock[location] = quantity
                self.model[product_id].version += 1  # one stock command per line

    @rule(
        route=rarely(
            st.sampled_from([(MAIN_LOCATION, SECOND_LOCATION), (SECOND_LOCATION, MAIN_LOCATION)]),
            st.sampled_from([(MAIN_LOCATION, MAIN_LOCATION), (MAIN_LOCATION, "nowhere"), ("nowhere", MAIN_LOCATION)]),
        ),
        lines=st.lists(st.tuples(some_product, rarely(st.integers(1, 8), st.integers(9, 40))), min_size=1, max_size=2),
    )
    def transfer_stock(self, route, lines):
        source, destination = route
        if source == destination:
            expected = DuplicateLineError
        else:
            keys = [(product_id, source) for product_id, _q in lines] + [
                (product_id, destination) for product_id, _q in lines
            ]
            expected = self._lines_error(keys)
        if expected is None and any(
            self._breaks_stock_rules(product_id, source, self.model[product_id].stock.get(source, 0) - quantity)
            or self._breaks_stock_rules(
                product_id, destination, self.model[product_id].stock.get(destination, 0) + quantity
            )
            for product_id, quantity in lines
        ):
            expected = InsufficientStockError
        command = commands.TransferStock(
            from_location=source,
            to_location=destination,
            lines=tuple(
                commands.TransferLine(product_id=product_id, quantity=quantity) for product_id, quantity in lines
            ),
        )
        if self._dispatch(command, expected) is not REFUSED:
            for product_id, quantity in lines:
                stock = self.model[product_id].stock
                stock[source] = stock.get(source, 0) - quantity
                stock[destination] = stock.get(destination, 0) + quantity
                self.model[product_id].version += 2  # a stock command at each end

    @rule(reservation_id=reservations, then_expire=st.booleans())
    def lapse_reservation(self, reservation_id, then_expire):
        """Let time pass for one reservation: its expiry, in both stores, moves into the past."""
        reservation = self.reservations[reservation_id]
        if reservation.holding:
            self.lapses += 1
            # An hour back, and each one a second later than the one before (ExpireReservations
            # takes the oldest first); one timestamp for both stores, so a rebuild finds them equal.
            lapse(reservation_id, moment=timezone.now() - datetime.timedelta(hours=1, seconds=-self.lapses))
            reservation.lapsed = True
        if then_expire:
            self.expire_reservations()

    @rule()
    def expire_reservations(self):
        lapsed = [r for r in self.reservations.values() if r.status == "active" and r.lapsed]
        assert self._dispatch(commands.ExpireReservations(), None) == len(lapsed)
        for reservation in lapsed:
            reservation.status = "expired"

    def teardown(self):
        for alias, savepoint in reversed(list(zip(_databases(), self._savepoints, strict=True))):
            transaction.set_rollback(True, using=alias)
            savepoint.__exit__(None, None, None)

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
    def no_location_holds_more_than_it_has(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT h.product_id, h.location_id, h.held, s.quantity FROM"
                " (SELECT product_id, location_id, sum(quantity) AS held FROM products_reservationline"
                "   WHERE held_until > clock_timestamp() GROUP BY product_id, location_id) h"
                " LEFT JOIN products_stocklevel s ON s.product_id = h.product_id AND s.location_id = h.location_id"
                " WHERE s.quantity IS NULL OR s.quantity < h.held"
            )
            assert cursor.fetchall() == []

    @invariant()
    def the_stock_the_api_shows_is_the_models(self):
        for product_id, product in self.model.items():
            if product.archived:
                continue
            shown = bus.ask(queries.GetStock(product_id=product_id))
            expected = {
                location: (quantity, self._held(product_id, location), quantity - self._held(product_id, location))
                for location, quantity in product.stock.items()
            }
            actual = {
                row["location"]: (row["quantity"], row["reserved"], row["available"]) for row in shown["locations"]
            }
            assert actual == expected, product_id
            reserved = sum(held for _quantity, held, _available in expected.values())
            quantity = sum(product.stock.values())
            assert (shown["quantity"], shown["reserved"], shown["available"]) == (
                quantity,
                reserved,
                quantity - reserved,
            )

    @invariant()
    def reservations_match_the_model(self):
        stored = {row["id"]: row["status"] for row in Reservation.objects.values("id", "status")}
        assert stored == {reservation_id: r.status for reservation_id, r in self.reservations.items()}
        with connection.cursor() as cursor:
            # Exactly the lines of active reservations hold, until their reservation's expiry.
            cursor.execute(
                "SELECT r.id FROM products_reservation r JOIN products_reservationline rl ON rl.reservation_id = r.id"
                " WHERE rl.held_until IS DISTINCT FROM CASE WHEN r.status = 'active' THEN r.expires_at END"
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
    run_state_machine_as_test(CommandMachine, settings=settings(max_examples=40, stateful_step_count=30, deadline=None))
