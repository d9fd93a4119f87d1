"""Each read table, defined once: its columns, where its rows come from, its API shape.

Everything else is derived from these definitions (see ``products.read.read_table``): the
projectors, the queries, the write side's representation, rebuild, verify and the tests all
use them, so a new column is one line here (and a migration). What reservations hold is not
stored in any row: it is counted when read (``held``), so a hold stops counting at its expiry.
"""

import orjson

from products.read.read_table import UTC_TIMESTAMP, Column, ReadTable

# Punctuation inside words (HT-001, v2.5, snake_case) is split so each part is searchable.
SEARCH_DOCUMENT = "to_tsvector('simple', translate({sku} || ' ' || {name} || ' ' || {description}, '-._/', '    '))"

# A product's on-hand quantity: the sum over its locations (bigint: locations may add up past
# 2^31), by an index lookup per product, so a few products cost a few lookups however many
# rows the table holds.
PRODUCT_TOTAL = "SELECT coalesce(sum(quantity), 0)::bigint AS quantity FROM products_stocklevel WHERE product_id = p.id"

PRODUCTS = ReadTable(
    name="read_product",
    label="products",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "p.id", "id", "{}::text"),
        Column("sku", "p.sku", "sku"),
        Column("name", "p.name", "name"),
        Column("description", "p.description", "description"),
        Column("category_slug", "c.slug", "category"),
        Column("category_name", "c.name", "category_name"),
        Column("price", "p.price", "price", "{}::text"),
        Column("quantity", "s.quantity", "quantity"),  # summed over the product's locations
        Column("reorder_point", "p.reorder_point", "reorder_point"),
        Column("version", "p.version", "version"),
        Column("created_at", "p.created_at", "created_at", json=UTC_TIMESTAMP),
        Column("updated_at", "p.updated_at", "updated_at", json=UTC_TIMESTAMP),
    ),
    sources=f"""products_product p
      CROSS JOIN LATERAL ({PRODUCT_TOTAL}) s
      LEFT JOIN products_category c ON c.id = p.category_id""",
    scope="NOT p.is_archived",
    version="version",
)

# The search document of each active product, in a table of its own: a stock change then
# updates a read_product row without touching its GIN index (the costliest index to write,
# and one every writer would queue on), and leaves this row alone.
SEARCH = ReadTable(
    name="read_product_search",
    label="search documents",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "p.id", from_payload="%(id)s"),
        Column(
            "search_document",
            SEARCH_DOCUMENT.format(sku="p.sku", name="p.name", description="p.description"),
            from_payload=SEARCH_DOCUMENT.format(sku="%(sku)s", name="%(name)s", description="%(description)s"),
        ),
    ),
    sources="products_product p",
    scope="NOT p.is_archived",
)

MOVEMENTS = ReadTable(
    name="read_stock_movement",
    label="stock movements",
    key_type="bigint",
    key="id",
    columns=(
        Column("id", "m.id", "id"),
        Column("product_id", "m.product_id", "product_id", "{}::text"),
        Column("location", "l.code", "location"),
        Column("delta", "m.delta", "delta"),
        Column("quantity_after", "m.quantity_after", "quantity_after"),  # at that location
        Column("reason", "m.reason", "reason"),
        Column("reference", "m.reference", "reference"),
        Column("created_at", "m.created_at", "created_at", json=UTC_TIMESTAMP),
    ),
    sources="""products_stockmovement m JOIN products_product p ON p.id = m.product_id
      JOIN products_location l ON l.id = m.location_id""",
    scope="NOT p.is_archived",
    on_conflict="nothing",
)

# A product's quantity at each location that ever held it. Its rows follow from ledger rows
# too: a movement's location and quantity_after are the row's (``from_payload``).
STOCK_LEVELS = ReadTable(
    name="read_stock_level",
    label="stock levels",
    key_type="text",
    key="key",
    columns=(
        Column("key", "sl.product_id::text || ':' || l.code", from_payload="%(product_id)s || ':' || %(location)s"),
        Column("product_id", "sl.product_id", from_payload="%(product_id)s"),
        Column("location", "l.code", "location"),
        Column("quantity", "sl.quantity", "quantity", from_payload="%(quantity_after)s"),
    ),
    sources="""products_stocklevel sl JOIN products_location l ON l.id = sl.location_id
      JOIN products_product p ON p.id = sl.product_id""",
    scope="NOT p.is_archived",
)

CATEGORIES = ReadTable(
    name="read_category",
    label="categories",
    key_type="text",
    key="slug",
    columns=(
        Column("slug", "c.slug", "slug"),
        Column("name", "c.name", "name"),
        Column("created_at", "c.created_at", "created_at", json=UTC_TIMESTAMP),
        Column("updated_at", "c.updated_at", "updated_at", json=UTC_TIMESTAMP),
    ),
    sources="products_category c",
)

LOCATIONS = ReadTable(
    name="read_location",
    label="locations",
    key_type="text",
    key="code",
    columns=(
        Column("code", "l.code", "code"),
        Column("name", "l.name", "name"),
        Column("is_active", "l.is_active", "is_active"),
        Column("created_at", "l.created_at", "created_at", json=UTC_TIMESTAMP),
        Column("updated_at", "l.updated_at", "updated_at", json=UTC_TIMESTAMP),
    ),
    sources="products_location l",
)

# A reservation's lines, in the order they were placed, as the API shows them.
RESERVATION_LINES = """SELECT coalesce(jsonb_agg(jsonb_build_object(
        'product', rl.product_id::text, 'sku', lp.sku, 'location', ll.code, 'quantity', rl.quantity)
        ORDER BY rl.id), '[]')
      FROM products_reservationline rl JOIN products_product lp ON lp.id = rl.product_id
      JOIN products_location ll ON ll.id = rl.location_id WHERE rl.reservation_id = r.id"""

# A reservation's status as a read shows it: an active one whose time is up holds nothing and
# reads as expired, whether or not expire_reservations has recorded it yet.
SHOWN_STATUS = "CASE WHEN {0} = 'active' AND expires_at <= now() THEN 'expired' ELSE {0} END"

RESERVATIONS = ReadTable(
    name="read_reservation",
    label="reservations",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "r.id", "id", "{}::text"),
        Column("status", "r.status", "status", SHOWN_STATUS, json="{}"),  # payloads carry the stored status
        Column("reference", "r.reference", "reference"),
        Column("expires_at", "r.expires_at", "expires_at", json=UTC_TIMESTAMP),
        Column("lines", f"({RESERVATION_LINES})", "lines", from_payload="%(lines)s::jsonb"),
        Column("version", "r.version", from_payload="%(version)s"),
        Column("created_at", "r.created_at", "created_at", json=UTC_TIMESTAMP),
        Column("updated_at", "r.updated_at", from_payload="%(updated_at)s"),
    ),
    sources="products_reservation r",
    version="version",
)


def shown_reservation(row):
    """Return a row of ``RESERVATIONS.api_select`` with its lines as a list (Django hands jsonb over as text)."""
    row["lines"] = orjson.loads(row["lines"])
    return row


# The lines that hold stock: those of active reservations, until their expiry. What a product
# has reserved is counted from them when it is read (``held``).
HOLDS = ReadTable(
    name="read_stock_hold",
    label="stock holds",
    key_type="text",
    key="key",
    columns=(
        Column("key", "rl.reservation_id::text || ':' || rl.product_id::text || ':' || l.code", from_payload="%(key)s"),
        Column("reservation_id", "rl.reservation_id", from_payload="%(reservation_id)s"),
        Column("product_id", "rl.product_id", from_payload="%(product_id)s"),
        Column("location", "l.code", from_payload="%(location)s"),
        Column("quantity", "rl.quantity", from_payload="%(quantity)s"),
        Column("expires_at", "rl.held_until", from_payload="%(expires_at)s"),
    ),
    sources="products_reservationline rl JOIN products_location l ON l.id = rl.location_id",
    scope="rl.held_until IS NOT NULL",
)

# Every read table, in the order a rebuild fills them.
READ_TABLES = (CATEGORIES, LOCATIONS, PRODUCTS, SEARCH, STOCK_LEVELS, MOVEMENTS, RESERVATIONS, HOLDS)

# The columns of a product's read row that a stock change moves; nothing else of the row changes.
STOCK_COLUMNS = ("quantity", "version", "updated_at")


def held(product, location=None):
    """Return a scalar subquery: how much of ``product`` active reservations hold at ``location`` (a code), if given.

    Counted from the read store's holds when it runs, so a hold stops counting at its expiry
    whether or not any job has run since. (The write side counts its own tables with
    ``products.write.rules.held``.)
    """
    at = f" AND h.location = {location}" if location else ""
    return (
        f"(SELECT coalesce(sum(h.quantity), 0)::bigint FROM {HOLDS.name} h"
        f" WHERE h.product_id = {product}{at} AND h.expires_at > now())"
    )


# A product's reserved, available and in_stock, over a source joined with what is held (``held.reserved``).
AVAILABILITY = (
    "held.reserved AS reserved",
    "quantity - held.reserved AS available",
    "quantity - held.reserved > 0 AS in_stock",
)


def product_select(source, product, *, reserved=None, fields=None, extra=()):
    """Return the SELECT of products as the API shows them, availability included, from ``source``.

    ``product`` is the product's id in ``source``; ``reserved`` the SQL of what is held of it
    (default: the read store's holds, ``held``); ``fields`` and ``extra`` as in ``api_select``.
    """
    reserved = reserved or held(product)
    source = f"{source} CROSS JOIN LATERAL (SELECT {reserved} AS reserved) held"
    return PRODUCTS.api_select(source=source, fields=fields, extra=(*AVAILABILITY, *extra))
