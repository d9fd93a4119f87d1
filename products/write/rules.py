"""The write side's rules, each stated once: the statements that keep a rule include it from here, by name.

- **What is held** (``holds``, ``held``): active reservations hold stock at a (product, location) until
  their expiry, by the clock as the statement runs, whether or not any job has run since.
- **Never below what is held** (``never_below_held``, ``leaves_what_is_held``): a change never
  leaves less stock at a (product, location) than what is held there.
- **StockLow** (``stock_low_rows``): a change that takes a product's available (its quantity
  over its locations less what is held) from above its reorder point to or below it appends
  one ``StockLow``; a change that leaves it above, or finds it already at or below, does not.
- **The lock order** (``LOCK_ORDER``, ``lock_products_sql``): see ``LOCK_ORDER``.
- **An inactive location takes no stock** (``takes_stock``): no stock change, reservation or
  commit names a location unless it is active, read FOR SHARE so a deactivation waits.

``products/tests/write/test_rules.py`` tests each rule's intent through the commands.
"""

# -- What is held ---------------------------------------------------------------------------


def holds(line):
    """Return the condition that the reservation line ``line`` (an alias) holds its stock now.

    By the clock as the statement runs (``clock_timestamp()``, not the transaction's start): a
    hold one statement counted as lapsed never counts again.
    """
    return f"{line}.held_until > clock_timestamp()"


def held(product, location=None):
    """Return a scalar subquery: how much of ``product`` active reservations hold (at ``location``, an id).

    From the write tables, the lines that ``holds`` now.
    """
    at = f" AND h.location_id = {location}" if location else ""
    return (
        "(SELECT coalesce(sum(h.quantity), 0)::bigint FROM products_reservationline h"
        f" WHERE h.product_id = {product}{at} AND {holds('h')})"
    )


# -- Never below what is held -----------------------------------------------------------------

# The name the refusal carries, as a CHECK constraint's would: the command turns it into a 409.
HELD_CONSTRAINT = "stock_held_by_reservations"


def never_below_held(quantity, product, location):
    """Return ``quantity`` as SQL that aborts the statement when it is below what is held at (product, location).

    The SQL function ``products_keep_held`` (migration 0009) counts the holds with a fresh
    snapshot, after the statement took the product's lock: a reservation committed while the
    statement waited is counted. It raises a check_violation named ``HELD_CONSTRAINT``.
    For statements that change one (product, location) row in an upsert.
    """
    return f"products_keep_held({quantity}, {product}, {location})"


def leaves_what_is_held(quantity, reserved):
    """Return the condition that ``quantity`` leaves what is held (``reserved``, read after the products' locks).

    For statements of several lines that check every line before they write any.
    """
    return f"{quantity} >= {reserved}"


# -- StockLow -----------------------------------------------------------------------------------


def stock_low_rows(taken, available, extra=""):
    """Return a SELECT of the StockLow rows (type, product_id, payload, created_at) a change appends.

    One for each row of ``taken`` that took its product from above its reorder point to or
    below it. ``taken`` is a SELECT of (``product_id``, ``taken``, ...) rows, as ``t``;
    ``available`` the product's available after the change, over ``t`` and the product row
    ``p``; ``extra``: more select-list items after them (``", t.n"``).
    """
    return f"""
        SELECT 'StockLow', p.id, jsonb_build_object(
                   'product_id', p.id::text, 'available', a.available, 'reorder_point', p.reorder_point), %(now)s{extra}
          FROM ({taken}) t JOIN products_product p ON p.id = t.product_id
         CROSS JOIN LATERAL (SELECT {available} AS available) a
         WHERE a.available <= p.reorder_point AND a.available + t.taken > p.reorder_point"""


# -- The lock order -----------------------------------------------------------------------------

LOCK_ORDER = """Every command takes its locks in this order, so no two commands deadlock:

1. the products' advisory locks (``product_lock``), in ascending key order (two commands
   naming the same products in opposite orders queue instead of deadlocking), before the
   command's first write, so before its transaction has an id: a product's events then
   follow their commit order in the log;
2. then the locations it changes stock at, FOR SHARE, in ascending code order: a
   deactivation UPDATEs the row, so the command waits for it, and what it reads after these
   locks is what it left;
3. then the products' rows, in ascending id order (an UPDATE of their version, or FOR NO KEY
   UPDATE; placing and committing a reservation take them too): a bulk import locks the
   rows of the existing products it may write without their advisory locks (100,000 of
   those in one transaction run out of shared memory at the default
   max_locks_per_transaction), after its locations and before it reads what reservations
   hold, so a command on one of those products waits here for the import, and one on any
   other product at the same locations does not wait for it.

A single stock command's statement takes the same three, one of each, in that order; the
multi-line commands take them with ``lock_products_sql`` in statements of their own first.
"""

# The advisory lock key of a product in SQL, of a uuid expression ``{}``: its first 64 bits
# (``products.write.commands.common.product_lock`` computes the same key in Python).
PRODUCT_LOCK_SQL = "('x' || left(replace({}::text, '-', ''), 16))::bit(64)::bigint"


def lock_products_sql(keys, locations, rows=None):
    """Return the statements that take the locks in ``LOCK_ORDER``: products' keys, then locations, then rows.

    ``keys``: a SELECT of the products' lock keys (``key``); ``locations``: a condition on
    ``products_location`` naming the locations; ``rows``: a condition on ``products_product``
    naming the product rows to lock, or None to leave them to the statement that follows.
    """
    statements = [
        f"SELECT count(pg_advisory_xact_lock(key)) FROM (SELECT DISTINCT key FROM ({keys}) k ORDER BY key) ordered",
        f"SELECT count(*) FROM (SELECT id FROM products_location WHERE {locations} ORDER BY code FOR SHARE) l",
    ]
    if rows is not None:
        statements.append(
            f"SELECT count(*) FROM (SELECT id FROM products_product WHERE {rows} ORDER BY id FOR NO KEY UPDATE) p"
        )
    return "; ".join(statements)


# -- An inactive location takes no stock ----------------------------------------------------------


def takes_stock(location):
    """Return the condition that the location row ``location`` (an alias) takes stock: it is active."""
    return f"{location}.is_active"
