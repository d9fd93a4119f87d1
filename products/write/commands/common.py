"""What several command handlers share: locking a product by bumping its version, lookups, bounds."""

from django.db import IntegrityError
from django.db.models import F
from django.utils import timezone

from products.errors import ProductNotFoundError, StockLimitError, UnknownCategoryError, VersionMismatchError
from products.write.models import MAX_QUANTITY, Category, Product


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()  # "leave this field as it is", distinct from None ("clear it")


def constraint_name(error: IntegrityError):
    """Return the name of the constraint an IntegrityError broke, if PostgreSQL said."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def category_id(slug):
    """Return the id of the category ``slug`` (None for None), or refuse an unknown slug."""
    if slug is None:
        return None
    found = Category.objects.filter(slug=slug).values_list("id", flat=True).first()
    if found is None:
        raise UnknownCategoryError(f"Category {slug!r} does not exist.")
    return found


def bump_version(product_id, expected_version, **changes):
    """Lock the product row by updating it (version + 1, and any ``changes``).

    The expected version is compared in the UPDATE itself, so two writers holding the
    same ETag cannot both succeed.
    """
    rows = Product.objects.filter(id=product_id, is_archived=False)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(version=F("version") + 1, updated_at=timezone.now(), **changes):
        raise_missing_or_stale(product_id)


def raise_missing_or_stale(product_id):
    """Raise the reason a product could not be locked for a change."""
    if not Product.objects.filter(id=product_id, is_archived=False).exists():
        raise ProductNotFoundError("Product not found.")
    raise VersionMismatchError("The product has changed since you read it (If-Match does not match).")


def check_quantity(quantity, field):
    """Refuse a quantity outside 0..MAX_QUANTITY as a 400 naming ``field``.

    The database's check constraint would refuse it too, but as an IntegrityError (a 500).
    """
    if not 0 <= quantity <= MAX_QUANTITY:
        raise StockLimitError(f"Stock must be between 0 and {MAX_QUANTITY}.", field=field)
