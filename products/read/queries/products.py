"""Queries of products: one product, a filtered and ordered page of them."""

import re
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from cqrs_demo.bus import Query
from products.errors import ProductNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_statement
from products.read.statement import Statement, one_row
from products.read.tables import PRODUCTS, SEARCH, STOCK_LEVELS, held, product_select

PRODUCT_ORDERINGS = {
    # API name: (column, SQL type used to read a cursor value back)
    "sku": ("sku", "text"),
    "name": ("name", "text"),
    "price": ("price", "numeric"),
    "quantity": ("quantity", "bigint"),
    "created_at": ("created_at", "timestamptz"),
}

_SELECT = product_select(PRODUCTS.name, f"{PRODUCTS.name}.id")


@dataclass(frozen=True)
class GetProduct(Query):
    product_id: UUID


@dataclass(frozen=True)
class ListProducts(Query):
    search: str = ""
    category: str | None = None
    in_stock: bool | None = None
    location: str | None = None  # only products with stock available (> 0) at this location (code)
    low_stock: bool | None = None  # available at or below reorder_point (or, false, above)
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    ordering: str = "sku"
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def search_tsquery(text):
    """Return a tsquery in which every word of ``text`` must start a word of the document."""
    words = re.findall(r"[^\W_]+", text.lower())
    return " & ".join(f"{word}:*" for word in words)


def get_product(query):
    """Return the statement of the representation of an active product."""
    found = one_row(ProductNotFoundError, "Product not found.")
    return Statement(f"{_SELECT} WHERE id = %s", [query.product_id], found)


def list_products(query):
    """Return the statement of one page of active products matching the filters."""
    where, params = [], []
    tsquery = search_tsquery(query.search)
    if tsquery:
        where.append(f"id IN (SELECT id FROM {SEARCH.name} WHERE search_document @@ to_tsquery('simple', %s))")
        params.append(tsquery)
    if query.category is not None:
        where.append("category_slug = %s")
        params.append(query.category)
    if query.in_stock is not None:
        where.append("(quantity - held.reserved > 0) = %s")
        params.append(query.in_stock)
    if query.location is not None:
        where.append(
            f"EXISTS (SELECT FROM {STOCK_LEVELS.name} sl"
            f" WHERE sl.product_id = {PRODUCTS.name}.id AND sl.location = %s AND sl.quantity > 0"
            f" AND sl.quantity > {held('sl.product_id', 'sl.location')})"
        )
        params.append(query.location)
    if query.low_stock is not None:
        where.append("(quantity - held.reserved <= reorder_point) = %s")
        params.append(query.low_stock)
    if query.min_price is not None:
        where.append("price >= %s")
        params.append(query.min_price)
    if query.max_price is not None:
        where.append("price <= %s")
        params.append(query.max_price)
    column, column_type = PRODUCT_ORDERINGS[query.ordering.lstrip("-")]
    return keyset_statement(
        _SELECT,
        where,
        params,
        table=PRODUCTS.name,
        ordering=query.ordering,
        key=column,
        id_key="id",
        id_type="uuid",
        column_type=column_type,
        descending=query.ordering.startswith("-"),
        page_size=query.page_size,
        cursor=query.cursor,
    )


STATEMENTS = {
    GetProduct: get_product,
    ListProducts: list_products,
}
