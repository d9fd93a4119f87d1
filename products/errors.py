"""Domain errors raised by command and query handlers (mapped to HTTP in products.http.errors)."""


class DomainError(Exception):
    """Base class: a request the domain refuses. ``field`` names the input at fault, if any."""

    code = "domain_error"
    field = None

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class ProductNotFoundError(DomainError):
    code = "not_found"


class CategoryNotFoundError(DomainError):
    code = "not_found"


class LocationNotFoundError(DomainError):
    code = "not_found"


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
