"""Queries of categories: one category, a page of them."""

from dataclasses import dataclass

from cqrs_demo.bus import Query
from products.errors import CategoryNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE
from products.read.queries.common import one_by_key, page_by_key
from products.read.tables import CATEGORIES


@dataclass(frozen=True)
class GetCategory(Query):
    slug: str


@dataclass(frozen=True)
class ListCategories(Query):
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_category(query):
    """Return the statement of a category."""
    return one_by_key(CATEGORIES, query.slug, CategoryNotFoundError, "Category not found.")


def list_categories(query):
    """Return the statement of one page of categories ordered by slug."""
    return page_by_key(CATEGORIES, query)


STATEMENTS = {
    GetCategory: get_category,
    ListCategories: list_categories,
}
