"""What several command handlers share: the locks, bumping a product's version, lookups, bounds.

Three kinds of transaction-level advisory lock keep the event log in commit order where order
matters, without a global lock (see ``products.write.event_log``):

- a product's lock (``product_lock``), taken by every command that writes the product, in
  the same statement as its first write and before it: the transaction gets its id only
  after the previous writer of that product committed, so a product's events follow their
  commit order in (xact_id, id) order. Commands on different products never wait for each
  other (two products share a key only by a 64-bit hash collision, and then merely queue).
- the catalogue lock (``CATALOGUE_LOCK``): shared by the commands that write a product's
  category name into its read row (create, change details), exclusive for a category
  rename, so a rename and those writes never interleave. Shared holders never wait for
  each other.
- a location's lock (``lock_location``), taken before a change writes its row, so the
  changes of one location reach the log in commit order, as a product's do.
"""

import functools
from uuid import UUID

from django.db import IntegrityError, connection
from django.utils import timezone

from cqrs_demo.routers import read_store_alias
from products.errors import (
    DuplicateLineError,
    InactiveLocationError,
    ProductNotFoundError,
    StockLimitError,
    UnknownCategoryError,
    UnknownLocationError,
    UnknownProductError,
    VersionMismatchError,
)
from products.sql import array_literal
from products.write import rules
from products.write.models import MAX_QUANTITY, Category, Location, Product


def single_database():
    """Tell whether the read tables are beside the write tables, so a command's own SQL projects its events."""
    return read_store_alias() == "default"


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


CATALOGUE_LOCK = 7_401_003  # any constant shared by the writers


def product_lock(product_id):
    """Return the advisory lock key of a product: the first 64 bits of its UUID."""
    uuid = product_id if isinstance(product_id, UUID) else UUID(str(product_id))
    return int.from_bytes(uuid.bytes[:8], "big", signed=True)


def lock_products(product_ids, locations, *, rows=False):
    """Take the locks of ``product_ids``, then of the ``locations`` (codes), in ``rules.LOCK_ORDER``, in one round trip.

    Statements of their own, before the command's first write (so before it has a transaction id).
    With ``rows``, the products' rows too, after the locations (as a stock command's statement
    takes them): the statement after these locks then sees each product's stock at every
    location as committed under them.
    """
    sql = rules.lock_products_sql(
        "SELECT unnest(%(keys)s::bigint[]) AS key",
        "code = ANY(%(codes)s::text[])",
        rows="id = ANY(%(ids)s::uuid[])" if rows else None,
    )
    params = {
        "keys": array_literal(sorted({product_lock(pid) for pid in product_ids})),
        "codes": array_literal(sorted(set(locations))),
        "ids": array_literal(set(product_ids)),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def lock_products_of(select, params, *, rows=False):
    """Take the locks of the products, then the locations, that ``select`` yields (``product_id``, ``location_id``).

    ``params``: the named parameters of ``select``. With ``rows``, the products' rows too, in
    id order (as ``lock_products``): for a command whose statement then writes several of them.
    """
    with connection.cursor() as cursor:
        cursor.execute(_lock_products_of_sql(select, rows), params)


@functools.cache  # one statement per ``select``, built once
def _lock_products_of_sql(select, rows):
    keys = f"SELECT {rules.PRODUCT_LOCK_SQL.format('product_id')} AS key FROM ({select}) ids"
    return rules.lock_products_sql(
        keys,
        f"id IN (SELECT location_id FROM ({select}) ids)",
        rows=f"id IN (SELECT product_id FROM ({select}) ids)" if rows else None,
    )


def lock_catalogue(*, exclusive=False, product_id=None):
    """Take the catalogue lock: shared for product writes, exclusive for a category rename.

    With ``product_id``, take that product's lock after it, in the same round trip.
    """
    sql = f"SELECT pg_advisory_xact_lock{'' if exclusive else '_shared'}(%s)"
    params = [CATALOGUE_LOCK]
    if product_id is not None:
        sql += ", pg_advisory_xact_lock(%s)"
        params.append(product_lock(product_id))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


LOCATION_LOCK = 7_401_004  # the first key of a location's lock; the second is a hash of its code


def lock_location(code):
    """Take the lock of location ``code`` (before its row is written, so before the transaction has an id)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCATION_LOCK, code])


# If-Match, as data: any version when ``expected_version`` is NULL (PostgreSQL folds the test away).
VERSION_MATCHES = "(%(expected_version)s IS NULL OR p.version = %(expected_version)s)"

# The product's lock, first (``rules.LOCK_ORDER``); the steps after it join it, so it is taken
# before they touch a row and the transaction gets an id.
PRODUCT_LOCK_STEP = "locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(%(product_lock)s))"


def lock_and_bump_params(product_id, expected_version):
    """Return the parameters of ``PRODUCT_LOCK_STEP`` and ``VERSION_MATCHES``, and ``now``."""
    return {
        "product_id": product_id,
        "product_lock": product_lock(product_id),
        "now": timezone.now(),
        "expected_version": expected_version,
    }


# The product's columns a command may change: ``set_<column>`` says whether to, ``<column>``
# is the new value (``bump_params``).
DETAILS = ("name", "description", "category_id", "price", "reorder_point")

# Lock the product, then bump its version with the changes: the UPDATE locks the row and
# compares If-Match in itself, so two writers holding the same ETag cannot both succeed. With
# ``only_if_changed``, a change that changes no value leaves the row alone (no row back).
# ``archive`` archives it. A row back: it was bumped.
BUMP_SQL = f"""
    WITH {PRODUCT_LOCK_STEP}, product AS (
        UPDATE products_product p
           SET version = p.version + 1, updated_at = %(now)s, is_archived = %(archive)s,
               name = CASE WHEN %(set_name)s THEN %(name)s ELSE p.name END,
               description = CASE WHEN %(set_description)s THEN %(description)s ELSE p.description END,
               category_id = CASE WHEN %(set_category_id)s THEN %(category_id)s ELSE p.category_id END,
               price = CASE WHEN %(set_price)s THEN %(price)s ELSE p.price END,
               reorder_point = CASE WHEN %(set_reorder_point)s THEN %(reorder_point)s ELSE p.reorder_point END
          FROM locked
         WHERE p.id = %(product_id)s AND NOT p.is_archived AND {VERSION_MATCHES}
           AND (NOT %(only_if_changed)s
                OR %(set_name)s AND p.name IS DISTINCT FROM %(name)s
                OR %(set_description)s AND p.description IS DISTINCT FROM %(description)s
                OR %(set_category_id)s AND p.category_id IS DISTINCT FROM %(category_id)s
                OR %(set_price)s AND p.price IS DISTINCT FROM %(price)s
                OR %(set_reorder_point)s AND p.reorder_point IS DISTINCT FROM %(reorder_point)s)
        RETURNING p.id
    )
    SELECT count(*) FROM product"""


def bump_params(product_id, expected_version, changes, *, archive=False, only_if_changed=False):
    """Return the parameters of ``BUMP_SQL`` for ``changes`` (a dict of ``DETAILS`` columns and their new values)."""
    unknown = set(changes) - set(DETAILS)
    if unknown:
        raise ValueError(f"Not a product detail: {sorted(unknown)}")
    params = lock_and_bump_params(product_id, expected_version)
    for column in DETAILS:
        params[f"set_{column}"] = column in changes
        params[column] = changes.get(column)
    return {**params, "archive": archive, "only_if_changed": only_if_changed}


def _bump(params):
    with connection.cursor() as cursor:
        cursor.execute(BUMP_SQL, params)
        return cursor.fetchone()[0] > 0


def bump_version(product_id, expected_version, *, archive=False, **changes):
    """Lock the product and update its row (version + 1, any ``changes`` of its details, archived if ``archive``)."""
    if not _bump(bump_params(product_id, expected_version, changes, archive=archive)):
        raise_missing_or_stale(product_id)


def bump_version_if_changed(product_id, expected_version, **changes):
    """Apply ``changes`` to the product's details as ``bump_version`` does, if one of them changes a value.

    Return whether the row changed. A change that changes nothing leaves the row (version,
    updated_at) alone, yet a missing product or a stale ``If-Match`` is refused all the same.
    The caller holds the product's lock already, taken by a statement of its own: this
    statement's snapshot must be younger than the last committed change of the product,
    or a value changed meanwhile would compare as unchanged and the change would be lost.
    """
    if _bump(bump_params(product_id, expected_version, changes, only_if_changed=True)):
        return True
    current = Product.objects.filter(id=product_id, is_archived=False).values_list("version", flat=True).first()
    if current is None or (expected_version is not None and current != expected_version):
        raise_missing_or_stale(product_id)
    return False


def raise_missing_or_stale(product_id):
    """Raise the reason a product could not be locked for a change."""
    if not Product.objects.filter(id=product_id, is_archived=False).exists():
        raise ProductNotFoundError("Product not found.")
    raise VersionMismatchError("The product has changed since you read it (If-Match does not match).")


def raise_unusable_location(code):
    """Raise why location ``code`` takes no stock change (unknown or inactive), if it does not."""
    active = Location.objects.filter(code=code).values_list("is_active", flat=True).first()
    if active is None:
        raise UnknownLocationError(f"Location {code!r} does not exist.")
    if not active:
        raise InactiveLocationError(f"Location {code!r} is inactive: an inactive location takes no new stock.")


def check_quantity(quantity, field):
    """Refuse a quantity outside 0..MAX_QUANTITY as a 400 naming ``field``.

    The database's check constraint would refuse it too, but as an IntegrityError (a 500).
    """
    if not 0 <= quantity <= MAX_QUANTITY:
        raise StockLimitError(f"Stock must be between 0 and {MAX_QUANTITY}.", field=field)


# The lines of a multi-line stock command (a reservation, a batch, a transfer), read after
# its products' locks, so with a fresh snapshot: each line's product (``known``: active), its
# location (``location_id``: NULL unless active; FOR SHARE, so a deactivation waits for the
# command or the command sees it), the quantity there (``on_hand``) and what active
# reservations hold of it there (``reserved``). Steps of a WITH clause, leaving ``line``;
# parameters: ``products``, ``locations``, ``amounts`` and ``counts`` (arrays, one item per line).
STOCK_LINES_STEPS = f"""
    wanted AS (
        SELECT * FROM unnest(%(products)s::uuid[], %(locations)s::text[], %(amounts)s::bigint[], %(counts)s::bigint[])
                   WITH ORDINALITY AS w(product_id, location, amount, counted, n)
    ), location AS MATERIALIZED (
        SELECT l.id, l.code FROM products_location l
         WHERE l.code IN (SELECT location FROM wanted) AND {rules.takes_stock("l")} ORDER BY l.code FOR SHARE OF l
    ), line AS MATERIALIZED (
        SELECT w.*, p.id IS NOT NULL AS known, l.id AS location_id, coalesce(s.quantity, 0) AS on_hand,
               {rules.held("w.product_id", "l.id")} AS reserved
          FROM wanted w
          LEFT JOIN products_product p ON p.id = w.product_id AND NOT p.is_archived
          LEFT JOIN location l ON l.code = w.location
          LEFT JOIN products_stocklevel s ON s.product_id = w.product_id AND s.location_id = l.id
    )"""


def stock_lines_params(lines):
    """Return the parameters of ``STOCK_LINES_STEPS`` for ``(product_id, location, amount, counted)`` tuples."""
    products, locations, amounts, counts = zip(*lines, strict=True) if lines else ((), (), (), ())
    return {
        "products": array_literal(products),
        "locations": array_literal(locations),
        "amounts": array_literal(amounts),
        "counts": array_literal(counts),
    }


def check_distinct_lines(keys):
    """Refuse lines that name the same (product, location) twice."""
    if len(set(keys)) != len(keys):
        raise DuplicateLineError("Each (product, location) may appear in one line only.")


def raise_unknown_lines(rows):
    """Raise for the first line whose product is unknown or archived, or whose location takes no stock."""
    for row in rows:
        if not row["known"]:
            raise UnknownProductError(f"Product {row['product_id']} does not exist or is archived.")
    for row in rows:
        if row["location_id"] is None:
            raise_unusable_location(row["location"])
