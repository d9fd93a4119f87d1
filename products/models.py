"""Django's entry point to the app's tables, which live with the side that owns them.

The write tables and the event log are in ``products.write.models``, the read tables in
``products.read.models``, the idempotency keys in ``products.http.models``.
"""

from products.http.models import IdempotencyKey
from products.read.models import (
    CategoryView,
    LocationView,
    ProductView,
    ProjectorPosition,
    ReservationView,
    StockHoldView,
    StockMovementView,
)
from products.write.models import (
    MAX_QUANTITY,
    Category,
    Deployment,
    EventRecord,
    Location,
    Product,
    RelayPosition,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
)

__all__ = [
    "MAX_QUANTITY",
    "Category",
    "CategoryView",
    "Deployment",
    "EventRecord",
    "IdempotencyKey",
    "Location",
    "LocationView",
    "Product",
    "ProductView",
    "ProjectorPosition",
    "RelayPosition",
    "Reservation",
    "ReservationLine",
    "ReservationView",
    "StockHoldView",
    "StockLevel",
    "StockMovement",
    "StockMovementView",
]
