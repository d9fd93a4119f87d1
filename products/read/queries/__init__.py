"""Queries and their handlers, one module per aggregate: read the read tables only, one SQL statement each."""

from products.read.queries import categories, history, products, stock
from products.read.queries.categories import GetCategory, ListCategories
from products.read.queries.history import ListProductEvents
from products.read.queries.products import GetProduct, ListProducts
from products.read.queries.stock import GetStock, ListStockMovements

HANDLERS = {**categories.HANDLERS, **products.HANDLERS, **stock.HANDLERS, **history.HANDLERS}

__all__ = [
    "HANDLERS",
    "GetCategory",
    "GetProduct",
    "GetStock",
    "ListCategories",
    "ListProductEvents",
    "ListProducts",
    "ListStockMovements",
]
