"""GetCategory and ListCategories, one SQL query each."""

import pytest

from cqrs_demo.bus import bus
from products.errors import CategoryNotFoundError
from products.read import queries
from products.write import commands

pytestmark = pytest.mark.django_db


def test_get_category_returns_slug_name_and_timestamps(make_category, django_assert_num_queries):
    make_category(slug="hand-tools", name="Hand tools")
    with django_assert_num_queries(1):
        category = bus.ask(queries.GetCategory(slug="hand-tools"))
    assert set(category) == {"slug", "name", "created_at", "updated_at"}
    assert (category["slug"], category["name"]) == ("hand-tools", "Hand tools")


def test_get_category_shows_a_rename(make_category):
    make_category(slug="hand-tools", name="Hand tools")
    bus.dispatch(commands.RenameCategory(slug="hand-tools", name="Tools"))
    assert bus.ask(queries.GetCategory(slug="hand-tools"))["name"] == "Tools"


def test_get_unknown_category_is_not_found():
    with pytest.raises(CategoryNotFoundError):
        bus.ask(queries.GetCategory(slug="nope"))


def test_categories_are_listed_by_slug_in_pages_of_one_query(make_category, django_assert_num_queries):
    slugs = [f"c{number:02d}" for number in range(12)]
    for slug in reversed(slugs):
        make_category(slug=slug)
    pages, cursor = [], None
    while True:
        with django_assert_num_queries(1):
            page = bus.ask(queries.ListCategories(page_size=5, cursor=cursor))
        pages.append([row["slug"] for row in page.results])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == [slugs[0:5], slugs[5:10], slugs[10:]]
    back = bus.ask(queries.ListCategories(page_size=5, cursor=page.previous_cursor))
    assert [row["slug"] for row in back.results] == slugs[5:10]


def test_no_categories_is_an_empty_page():
    page = bus.ask(queries.ListCategories())
    assert (page.results, page.next_cursor, page.previous_cursor) == ([], None, None)
