"""GetProduct and ListProducts: search, filters, orderings and keyset pages, one SQL query each."""

import uuid
from decimal import Decimal

import pytest

from cqrs_demo.bus import bus
from products.errors import InvalidCursorError, ProductNotFoundError
from products.read import queries
from products.read.models import ProductView
from products.read.queries.products import PRODUCT_ORDERINGS
from products.tests.support import REPRESENTATION_KEYS, decoded, retargeted
from products.write import commands

pytestmark = pytest.mark.django_db


def skus(page):
    return sorted(row["sku"] for row in page.results)


def test_get_product_returns_the_flat_representation_in_one_query(
    make_category, make_product, django_assert_num_queries
):
    slug = make_category(name="Hand tools")
    product_id = make_product(sku="HT-001", name="Claw hammer", price=Decimal("12.50"), category=slug, initial_stock=4)
    with django_assert_num_queries(1):
        product = bus.ask(queries.GetProduct(product_id=product_id))
    assert set(product) == REPRESENTATION_KEYS
    assert product["id"] == str(product_id)
    assert (product["sku"], product["name"], product["category"], product["category_name"]) == (
        "HT-001",
        "Claw hammer",
        slug,
        "Hand tools",
    )
    assert (product["price"], product["quantity"], product["in_stock"], product["version"]) == ("12.50", 4, True, 1)


@pytest.mark.parametrize("known", [True, False], ids=["archived", "unknown"])
def test_get_product_of_an_archived_or_unknown_product_is_not_found(known, archived_product):
    with pytest.raises(ProductNotFoundError):
        bus.ask(queries.GetProduct(product_id=archived_product if known else uuid.uuid4()))


@pytest.fixture
def catalogue(make_category, make_product):
    tools = make_category(slug="hand-tools")
    make_product(
        sku="HT-001",
        name="Claw hammer",
        description="Forged stainless-steel head",
        category=tools,
        price=Decimal("12.50"),
        initial_stock=40,
    )
    make_product(sku="HT-002", name="Rubber mallet", description="Soft face", category=tools, price=Decimal("9.00"))
    make_product(
        sku="PT-010", name="Hammer drill", description="Cordless, v2.5 battery", price=Decimal("99.99"), initial_stock=2
    )
    make_product(sku="GD_snake_case", name="Garden hose", description="", price=Decimal("12.49"), initial_stock=1)
    return tools


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ham", ["HT-001", "PT-010"]),
        ("HAMMER", ["HT-001", "PT-010"]),
        ("mer", []),
        ("ammer", []),
        ("claw ham", ["HT-001"]),
        ("  claw   ham  ", ["HT-001"]),
        ("claw rubber", []),
        ("ht", ["HT-001", "HT-002"]),
        ("001", ["HT-001"]),
        ("HT-001", ["HT-001"]),
        ("ht-0", ["HT-001", "HT-002"]),
        ("forg", ["HT-001"]),
        ("steel", ["HT-001"]),
        ("stainless-steel", ["HT-001"]),
        ("v2.5", ["PT-010"]),
        ("snake", ["GD_snake_case"]),
        ("case", ["GD_snake_case"]),
        ("soft mallet", ["HT-002"]),
        ("", ["GD_snake_case", "HT-001", "HT-002", "PT-010"]),
        ("-- :* & | !", ["GD_snake_case", "HT-001", "HT-002", "PT-010"]),
        ("ham:* | mallet", []),
        ("'ham'", ["HT-001", "PT-010"]),
    ],
)
def test_search_matches_products_where_every_term_starts_a_word(catalogue, search, expected):
    assert skus(bus.ask(queries.ListProducts(search=search))) == expected


def test_search_sees_changed_details(catalogue):
    product_id = bus.ask(queries.ListProducts(search="mallet")).results[0]["id"]
    bus.dispatch(commands.UpdateProductDetails(product_id=uuid.UUID(product_id), name="Mallet", description="Wood"))
    assert skus(bus.ask(queries.ListProducts(search="wood"))) == ["HT-002"]
    assert skus(bus.ask(queries.ListProducts(search="soft"))) == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "hand-tools"}, ["HT-001", "HT-002"]),
        ({"category": "nope"}, []),
        ({"in_stock": True}, ["GD_snake_case", "HT-001", "PT-010"]),
        ({"in_stock": False}, ["HT-002"]),
        ({"min_price": Decimal("12.49")}, ["GD_snake_case", "HT-001", "PT-010"]),
        ({"max_price": Decimal("12.50")}, ["GD_snake_case", "HT-001", "HT-002"]),
        ({"min_price": Decimal("12.49"), "max_price": Decimal("12.50")}, ["GD_snake_case", "HT-001"]),
        ({"min_price": Decimal("12.50"), "max_price": Decimal("12.50")}, ["HT-001"]),
        ({"category": "hand-tools", "in_stock": True, "search": "claw"}, ["HT-001"]),
        ({"category": "hand-tools", "search": "drill"}, []),
    ],
)
def test_filters_narrow_the_list(catalogue, filters, expected):
    assert skus(bus.ask(queries.ListProducts(**filters))) == expected


def test_a_filtered_search_costs_one_query(catalogue, django_assert_num_queries):
    with django_assert_num_queries(1):
        bus.ask(queries.ListProducts(search="ham", category="hand-tools", in_stock=True, min_price=Decimal(1)))


def test_archived_products_are_not_listed(catalogue, archived_product):
    assert "GONE-1" not in skus(bus.ask(queries.ListProducts()))
    assert skus(bus.ask(queries.ListProducts(search="gone"))) == []


def test_the_default_ordering_is_by_sku(catalogue):
    page = bus.ask(queries.ListProducts())
    assert [row["sku"] for row in page.results] == sorted(row["sku"] for row in page.results)
    assert (page.next_cursor, page.previous_cursor) == (None, None)


@pytest.fixture
def many_products(make_product):
    """Create 45 products whose names, prices and quantities repeat, so ties need the id."""
    names = ["anvil", "bolt", "chisel"]
    for number in range(45):
        make_product(
            sku=f"P{number:03d}",
            name=names[number % 3],
            price=Decimal(number % 4 * 7),  # 0, 7, 14, 21: text order would differ from numeric
            initial_stock=number % 5,
        )
    return list(ProductView.objects.values("id", "sku", "name", "price", "quantity", "created_at"))


def walk_forward(page_size, **params):
    """Follow next from the first page; return the pages as lists of ids."""
    pages, cursor = [], None
    while True:
        page = bus.ask(queries.ListProducts(page_size=page_size, cursor=cursor, **params))
        pages.append([uuid.UUID(row["id"]) for row in page.results])
        if page.next_cursor is None:
            return pages, page
        cursor = page.next_cursor


ORDERINGS = [name for field in PRODUCT_ORDERINGS for name in (field, f"-{field}")]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_next_visits_every_product_once_in_order(many_products, ordering, django_assert_num_queries):
    field = ordering.lstrip("-")
    expected = [
        row["id"]
        for row in sorted(many_products, key=lambda row: (row[field], row["id"]), reverse=ordering.startswith("-"))
    ]
    pages, cursor = [], None
    while True:
        with django_assert_num_queries(1):
            page = bus.ask(queries.ListProducts(ordering=ordering, page_size=7, cursor=cursor))
        pages.append([uuid.UUID(row["id"]) for row in page.results])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(page) for page in pages] == [7, 7, 7, 7, 7, 7, 3]
    assert [product_id for page in pages for product_id in page] == expected


@pytest.mark.parametrize("ordering", ["price", "-quantity", "name"])
def test_following_previous_from_the_last_page_walks_the_same_pages_back(many_products, ordering):
    forward, last = walk_forward(10, ordering=ordering)
    backward, page = [], last
    while page.previous_cursor is not None:
        page = bus.ask(queries.ListProducts(ordering=ordering, page_size=10, cursor=page.previous_cursor))
        backward.append([uuid.UUID(row["id"]) for row in page.results])
    assert backward == forward[-2::-1]
    assert page.next_cursor is not None


def test_a_page_reached_by_previous_links_to_its_next_page(many_products):
    first = bus.ask(queries.ListProducts(page_size=10))
    second = bus.ask(queries.ListProducts(page_size=10, cursor=first.next_cursor))
    back = bus.ask(queries.ListProducts(page_size=10, cursor=second.previous_cursor))
    assert back.results == first.results
    assert back.previous_cursor is None
    again = bus.ask(queries.ListProducts(page_size=10, cursor=back.next_cursor))
    assert again.results == second.results


def test_filters_apply_on_every_page(many_products):
    pages, _ = walk_forward(4, min_price=Decimal(1), max_price=Decimal(2), ordering="-price")
    visited = [product_id for page in pages for product_id in page]
    expected = {row["id"] for row in many_products if Decimal(1) <= row["price"] <= Decimal(2)}
    assert len(visited) == len(set(visited)) == len(expected)
    assert set(visited) == expected


def test_page_size_is_capped_at_one_hundred(make_product):
    for number in range(105):
        make_product(sku=f"C{number:03d}")
    page = bus.ask(queries.ListProducts(page_size=500))
    assert len(page.results) == 100
    rest = bus.ask(queries.ListProducts(page_size=500, cursor=page.next_cursor))
    assert len(rest.results) == 5
    assert rest.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "", "W10"])
def test_an_invalid_cursor_is_refused(catalogue, cursor):
    with pytest.raises(InvalidCursorError):
        bus.ask(queries.ListProducts(cursor=cursor))


def test_a_cursor_of_another_ordering_is_refused(many_products):
    cursor = bus.ask(queries.ListProducts(page_size=5, ordering="price")).next_cursor
    with pytest.raises(InvalidCursorError):
        bus.ask(queries.ListProducts(page_size=5, ordering="name", cursor=cursor))


ANY_ID = "6f1c2a52-5d1e-4c3b-9a57-0c8d2f0e4b11"


@pytest.mark.parametrize(
    ("ordering", "value", "row_id"),
    [
        ("price", "not a number", ANY_ID),
        ("price", "1e999999", ANY_ID),
        ("price", "1e-999999", ANY_ID),
        ("price", "NaN", ANY_ID),
        ("price", 5, ANY_ID),
        ("quantity", 2**63, ANY_ID),  # the total is a bigint
        ("quantity", "seven", ANY_ID),
        ("created_at", "yesterday", ANY_ID),
        ("created_at", "2026-02-30T00:00:00Z", ANY_ID),
        ("created_at", "0001-01-01T00:00:00+20:00", ANY_ID),
        ("sku", "A\x00B", ANY_ID),
        ("sku", ["a"], ANY_ID),
        ("sku", "A", "not-a-uuid"),
        ("sku", "A", None),
    ],
)
def test_a_well_formed_cursor_with_values_of_the_wrong_type_is_refused(catalogue, ordering, value, row_id):
    cursor = retargeted(bus.ask(queries.ListProducts(ordering=ordering, page_size=1)).next_cursor, value, row_id)
    with pytest.raises(InvalidCursorError):
        bus.ask(queries.ListProducts(ordering=ordering, cursor=cursor))


@pytest.mark.parametrize("ordering", ["sku", "-price", "quantity", "created_at"])
def test_a_retargeted_cursor_with_values_of_the_right_type_is_taken(catalogue, ordering):
    """The test above refuses a cursor for its values, not for the list it names."""
    after_first = bus.ask(queries.ListProducts(ordering=ordering, page_size=1)).next_cursor
    after_second = bus.ask(queries.ListProducts(ordering=ordering, page_size=2)).next_cursor
    _, _, value, row_id = decoded(after_first)
    cursor = retargeted(after_second, value, row_id)
    expected = bus.ask(queries.ListProducts(ordering=ordering, cursor=after_first)).results
    assert len(expected) == 3
    assert bus.ask(queries.ListProducts(ordering=ordering, cursor=cursor)).results == expected
