"""Commands and their handlers, one module per aggregate: the only code that writes the write model.

Each handler runs inside the transaction the bus opens for it (a single-statement handler,
such as AdjustStock's, runs as that one statement), takes its locks before its first write,
changes rows in a fixed order (the product row first, then its stock), appends the events
that describe what happened, and returns what the client is answered with.
"""

from products.write.commands import bulk, categories, locations, products, reservations, stock, stock_batches
from products.write.commands.bulk import BulkImportProducts, BulkImportResult
from products.write.commands.categories import CreateCategory, RenameCategory
from products.write.commands.common import UNSET
from products.write.commands.locations import ChangeLocation, CreateLocation
from products.write.commands.products import ArchiveProduct, CreateProduct, UpdateProductDetails
from products.write.commands.reservations import (
    CommitReservation,
    ExpireReservations,
    ExtendReservation,
    PlaceReservation,
    ReleaseReservation,
    ReservationLine,
)
from products.write.commands.stock import AdjustStock, SetStock
from products.write.commands.stock_batches import AdjustStockBatch, BatchLine, TransferLine, TransferStock

HANDLERS = {
    **bulk.HANDLERS,
    **categories.HANDLERS,
    **locations.HANDLERS,
    **products.HANDLERS,
    **reservations.HANDLERS,
    **stock.HANDLERS,
    **stock_batches.HANDLERS,
}

__all__ = [
    "HANDLERS",
    "UNSET",
    "AdjustStock",
    "AdjustStockBatch",
    "ArchiveProduct",
    "BatchLine",
    "BulkImportProducts",
    "BulkImportResult",
    "ChangeLocation",
    "CommitReservation",
    "CreateCategory",
    "CreateLocation",
    "CreateProduct",
    "ExpireReservations",
    "ExtendReservation",
    "PlaceReservation",
    "ReleaseReservation",
    "RenameCategory",
    "ReservationLine",
    "SetStock",
    "TransferLine",
    "TransferStock",
    "UpdateProductDetails",
]
