"""Queries of stock: a product's stock, a page of its ledger."""

from dataclasses import dataclass
from uuid import UUID

import orjson

from cqrs_demo.bus import Query
from products.errors import ProductNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE
from products.read.queries.history import product_rows_page
from products.read.statement import Statement, one_row
from products.read.tables import MOVEMENTS, PRODUCTS, STOCK_LEVELS, held, product_select

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
    """Return the statement of the stock of an active product."""

    def parse_locations(stock):
        stock["locations"] = orjson.loads(stock["locations"])  # jsonb comes as text (products.read.statement)
        return stock

    found = one_row(ProductNotFoundError, "Product not found.")
    return Statement(f"{_STOCK_SELECT} WHERE id = %s", [query.product_id], found).then(parse_locations)


def list_stock_movements(query):
    """Return the statement of one page of an active product's ledger, newest first (archived products: 404)."""

    def without_ids(page):
        for row in page.results:
            del row["id"]  # the page key, which the API does not show
        return page

    return product_rows_page(_MOVEMENT_SELECT, MOVEMENTS.name, query, descending=True).then(without_ids)


STATEMENTS = {
    GetStock: get_stock,
    ListStockMovements: list_stock_movements,
}
