"""Domain errors raised by command and query handlers (mapped to HTTP in products.http.errors)."""


class DomainError(Exception):
    """Base class: a request the domain refuses. ``field`` names the input at fault, if any.

    ``details`` are more fields of the error's answer (e.g. the ``lines`` a reservation lacks).
    """

    code = "domain_error"
    field = None

    def __init__(self, message, *, field=None, **details):
        super().__init__(message)
        self.message = message
        self.details = details
        if field is not None:
            self.field = field


class ProductNotFoundError(DomainError):
    code = "not_found"


class CategoryNotFoundError(DomainError):
    code = "not_found"


class LocationNotFoundError(DomainError):
    code = "not_found"


class ReservationNotFoundError(DomainError):
    code = "not_found"


class UnknownProductError(DomainError):
    """A reservation or a batch names a product that does not exist or is archived."""

    code = "unknown_product"
    field = "lines"


class DuplicateLineError(DomainError):
    """Two lines of one request name the same (product, location)."""

    code = "duplicate_line"
    field = "lines"


class ReservationEndedError(DomainError):
    """A reservation that is no longer active cannot be committed, released or extended."""

    code = "reservation_ended"


class ReservationExpiredError(ReservationEndedError):
    code = "reservation_expired"


class ReservationCommittedError(ReservationEndedError):
    code = "reservation_committed"


class ReservationReleasedError(ReservationEndedError):
    code = "reservation_released"


class UnknownCategoryError(DomainError):
    """A product refers to a category that does not exist."""

    code = "unknown_category"
    field = "category"


class UnknownLocationError(DomainError):
    """A stock change names a location that does not exist."""

    code = "unknown_location"
    field = "location"


class InactiveLocationError(DomainError):
    """A stock change names an inactive location: it takes no new stock."""

    code = "inactive_location"
    field = "location"


class ArchivedSkuError(DomainError):
    """An import names the SKU of an archived product: SKUs are never reused."""

    code = "archived_sku"
    field = "sku"

    def __init__(self, sku):
        super().__init__(f"SKU {sku!r} belongs to an archived product.")


class DuplicateSkuError(DomainError):
    code = "duplicate_sku"
    field = "sku"


class DuplicateCategoryError(DomainError):
    code = "duplicate_category"
    field = "slug"


class DuplicateLocationError(DomainError):
    code = "duplicate_location"
    field = "code"


class InsufficientStockError(DomainError):
    code = "insufficient_stock"


class StockLimitError(DomainError):
    """A stock change would exceed the largest quantity a product may hold."""

    code = "stock_limit"


class VersionMismatchError(DomainError):
    code = "version_mismatch"


class InvalidCursorError(DomainError):
    code = "invalid_cursor"
    field = "cursor"


class IdempotencyKeyReusedError(DomainError):
    code = "idempotency_key_reused"


class IdempotencyKeyInFlightError(DomainError):
    code = "idempotency_key_in_flight"
