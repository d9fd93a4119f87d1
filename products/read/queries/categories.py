"""Queries of categories: one category, a page of them."""

from dataclasses import dataclass

from cqrs_demo.bus import Query
from cqrs_demo.routers import read_query_alias
from products.errors import CategoryNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_page
from products.read.tables import CATEGORIES
from products.sql import fetch_dicts

_SELECT = CATEGORIES.api_select()


@dataclass(frozen=True)
class GetCategory(Query):
    slug: str


@dataclass(frozen=True)
class ListCategories(Query):
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_category(query):
    """Return a category."""
    rows = fetch_dicts(f"{_SELECT} WHERE slug = %s", [query.slug], read_query_alias())
    if not rows:
        raise CategoryNotFoundError("Category not found.")
    return rows[0]


def list_categories(query):
    """Return one page of categories ordered by slug."""
    return keyset_page(
        _SELECT,
        [],
        [],
        table=CATEGORIES.name,
        ordering="slug",
        key="slug",
        id_key="slug",
        id_type="text",
        column_type="text",
        descending=False,
        page_size=query.page_size,
        cursor=query.cursor,
    )


HANDLERS = {
    GetCategory: get_category,
    ListCategories: list_categories,
}
