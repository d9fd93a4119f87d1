"""Queries, one module per aggregate: each builds one SQL statement over the read tables.

``STATEMENTS`` maps each query to the function that builds its ``Statement`` (framework-free,
so the ASGI read API runs the very same SQL); ``HANDLERS`` are the bus's handlers, which run
those statements through Django's connections.
"""

from products.read.queries import categories, history, locations, products, reservations, stock
from products.read.queries.categories import GetCategory, ListCategories
from products.read.queries.history import ListProductEvents
from products.read.queries.locations import GetLocation, ListLocations
from products.read.queries.products import GetProduct, ListProducts
from products.read.queries.reservations import GetReservation, ListReservations
from products.read.queries.stock import GetStock, ListStockMovements
from products.read.run import run

STATEMENTS = {
    **categories.STATEMENTS,
    **locations.STATEMENTS,
    **products.STATEMENTS,
    **reservations.STATEMENTS,
    **stock.STATEMENTS,
    **history.STATEMENTS,
}


def _handler(build):
    def handle(query):
        return run(build(query))

    handle.__qualname__ = build.__qualname__
    return handle


HANDLERS = {query_type: _handler(build) for query_type, build in STATEMENTS.items()}

__all__ = [
    "HANDLERS",
    "STATEMENTS",
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
