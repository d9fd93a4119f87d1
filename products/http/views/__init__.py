"""Viewsets: parse the request, build a command or query, hand it to the bus, shape the response.

Reads ask a query (one SQL statement over the read tables). Writes dispatch a command and
answer with what its handler returns: the resource as the write tables now hold it, which
stays right in split mode, where the read store catches up a moment later.
"""

from products.http.views.categories import CategoryViewSet
from products.http.views.locations import LocationViewSet
from products.http.views.products import ProductViewSet
from products.http.views.reservations import ReservationViewSet
from products.http.views.stock import StockViewSet

__all__ = ["CategoryViewSet", "LocationViewSet", "ProductViewSet", "ReservationViewSet", "StockViewSet"]
