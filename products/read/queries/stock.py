"""Queries of stock: a product's stock, a page of its ledger."""

from dataclasses import dataclass
from uuid import UUID

import orjson

from cqrs_demo.bus import Query
from cqrs_demo.routers import read_query_alias
from products.errors import ProductNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE
from products.read.queries.history import product_rows_page
from products.read.tables import MOVEMENTS, PRODUCTS, STOCK_LEVELS, held, product_select
from products.sql import fetch_dicts

# The product's stock, with its stock at each location that ever held it (by code) in a subquery: one query.
# Each location's reserved and available are counted as the product's are (``held``).
_LOCATIONS = f"""(
    SELECT coalesce(jsonb_agg({STOCK_LEVELS.api_json("sl")}
               || jsonb_build_object('reserved', sl.reserved, 'available', sl.quantity - sl.reserved)
               ORDER BY sl.location COLLATE "C"), '[]')
      FROM (SELECT *, {held("l.product_id", "l.location")} AS reserved FROM {STOCK_LEVELS.name} l
             WHERE l.product_id = {PRODUCTS.name}.id) sl
) AS locations"""
_STOCK_SELECT = product_select(
    PRODUCTS.name, f"{PRODUCTS.name}.id", fields={"sku", "quantity", "version"}, extra=[_LOCATIONS]
)
# The ledger's id is the page key; the API does not show it.
_MOVEMENT_SELECT = MOVEMENTS.api_select(
    fields={"id", "location", "delta", "quantity_after", "reason", "reference", "created_at"}
)


@dataclass(frozen=True)
class GetStock(Query):
    product_id: UUID


@dataclass(frozen=True)
class ListStockMovements(Query):
    product_id: UUID
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_stock(query):
    """Return the stock of an active product."""
    rows = fetch_dicts(f"{_STOCK_SELECT} WHERE id = %s", [query.product_id], read_query_alias())
    if not rows:
        raise ProductNotFoundError("Product not found.")
    stock = rows[0]
    stock["locations"] = orjson.loads(stock["locations"])  # Django hands jsonb over as text
    return stock


def list_stock_movements(query):
    """Return one page of an active product's ledger, newest first (archived products: 404)."""
    page = product_rows_page(_MOVEMENT_SELECT, MOVEMENTS.name, query, descending=True)
    for row in page.results:
        del row["id"]
    return page


HANDLERS = {
    GetStock: get_stock,
    ListStockMovements: list_stock_movements,
}
