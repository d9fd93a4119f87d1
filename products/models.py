"""Django's entry point to the app's tables, which live with the side that owns them.

The write tables and the event log are in ``products.write.models``, the read tables in
``products.read.models`` (built from their declarations when it is imported: ``READ_MODELS``),
the idempotency keys in ``products.http.models``.
"""

from products.http.models import IdempotencyKey
from products.read.models import READ_MODELS, ProjectorPosition
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
    "READ_MODELS",
    "Category",
    "Deployment",
    "EventRecord",
    "IdempotencyKey",
    "Location",
    "Product",
    "ProjectorPosition",
    "RelayPosition",
    "Reservation",
    "ReservationLine",
    "StockLevel",
    "StockMovement",
]
