"""Queries and their handlers, one module per aggregate: read the read tables only, one SQL statement each."""

from products.read.queries import categories, history, locations, products, reservations, stock
from products.read.queries.categories import GetCategory, ListCategories
from products.read.queries.history import ListProductEvents
from products.read.queries.locations import GetLocation, ListLocations
from products.read.queries.products import GetProduct, ListProducts
from products.read.queries.reservations import GetReservation, ListReservations
from products.read.queries.stock import GetStock, ListStockMovements

HANDLERS = {
    **categories.HANDLERS,
    **locations.HANDLERS,
    **products.HANDLERS,
    **reservations.HANDLERS,
    **stock.HANDLERS,
    **history.HANDLERS,
}

__all__ = [
    "HANDLERS",
    "GetCategory",
    "GetLocation",
    "GetProduct",
    "GetReservation",
    "GetStock",
    "ListCategories",
    "ListLocations",
    "ListProductEvents",
    "ListProducts",
    "ListReservations",
    "ListStockMovements",
]
