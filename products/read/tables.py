"""Each read table, defined once: its columns, where its rows come from, its API shape.

Everything else is derived from these definitions (see ``products.read.read_table``): the
Django models (for migrations and the router), the projectors, the queries, the write side's
representation, rebuild, verify and the tests all use them, so a new column is one line here
(and a migration). What reservations hold is not
stored in any row: it is counted when read (``held``), so a hold stops counting at its expiry.
"""

import orjson
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

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
    model="ProductView",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "p.id", "id", "{}::text", field=models.UUIDField()),
        Column("sku", "p.sku", "sku", field=models.CharField(max_length=64)),
        Column("name", "p.name", "name", field=models.CharField(max_length=200)),
        Column("description", "p.description", "description", field=models.TextField()),
        # NULL: no category.
        Column("category_slug", "c.slug", "category", field=models.CharField(max_length=100, null=True)),
        Column("category_name", "c.name", "category_name", field=models.CharField(max_length=100, null=True)),
        Column("price", "p.price", "price", "{}::text", field=models.DecimalField(max_digits=10, decimal_places=2)),
        # Summed over the product's locations: bigint, as it may pass what one location holds.
        Column("quantity", "s.quantity", "quantity", field=models.BigIntegerField()),
        Column("reorder_point", "p.reorder_point", "reorder_point", field=models.IntegerField()),
        Column("version", "p.version", "version", field=models.IntegerField()),
        Column("created_at", "p.created_at", "created_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
        Column("updated_at", "p.updated_at", "updated_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
    ),
    sources=f"""products_product p
      CROSS JOIN LATERAL ({PRODUCT_TOTAL}) s
      LEFT JOIN products_category c ON c.id = p.category_id""",
    scope="NOT p.is_archived",
    version="version",
    # Each keyset ordering has its own (column, id) index, so page N costs what page 1 does.
    indexes=(
        models.Index(fields=["sku", "id"], name="read_product_sku"),
        models.Index(fields=["name", "id"], name="read_product_name"),
        models.Index(fields=["price", "id"], name="read_product_price"),
        models.Index(fields=["quantity", "id"], name="read_product_quantity"),
        models.Index(fields=["created_at", "id"], name="read_product_created"),
        models.Index(fields=["category_slug", "sku", "id"], name="read_product_cat_sku"),
        models.Index(fields=["category_slug", "price", "id"], name="read_product_cat_price"),
    ),
    meta={"managed": True},  # as its first migration recorded it (the default)
)

# The search document of each active product, in a table of its own: a stock change then
# updates a read_product row without touching its GIN index (the costliest index to write,
# and one every writer would queue on), and leaves this row alone.
SEARCH = ReadTable(
    name="read_product_search",
    label="search documents",
    model="ProductSearchView",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "p.id", from_payload="%(id)s", field=models.UUIDField()),
        Column(
            "search_document",  # a tsvector, configuration simple
            SEARCH_DOCUMENT.format(sku="p.sku", name="p.name", description="p.description"),
            from_payload=SEARCH_DOCUMENT.format(sku="%(sku)s", name="%(name)s", description="%(description)s"),
            field=SearchVectorField(),
        ),
    ),
    sources="products_product p",
    scope="NOT p.is_archived",
    indexes=(GinIndex(fields=["search_document"], name="read_search_document"),),
)

MOVEMENTS = ReadTable(
    name="read_stock_movement",
    label="stock movements",
    model="StockMovementView",
    key_type="bigint",
    key="id",
    columns=(
        Column("id", "m.id", "id", field=models.BigIntegerField()),
        Column("product_id", "m.product_id", "product_id", "{}::text", field=models.UUIDField()),
        Column("location", "l.code", "location", field=models.CharField(max_length=32)),
        Column("delta", "m.delta", "delta", field=models.IntegerField()),
        # At that location.
        Column("quantity_after", "m.quantity_after", "quantity_after", field=models.IntegerField()),
        Column("reason", "m.reason", "reason", field=models.CharField(max_length=200)),
        Column("reference", "m.reference", "reference", field=models.CharField(max_length=200, null=True)),
        Column("created_at", "m.created_at", "created_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
    ),
    sources="""products_stockmovement m JOIN products_product p ON p.id = m.product_id
      JOIN products_location l ON l.id = m.location_id""",
    scope="NOT p.is_archived",
    on_conflict="nothing",
    indexes=(models.Index(fields=["product_id", "-id"], name="read_movement_product"),),
)

# A product's quantity at each location that ever held it. Its rows follow from ledger rows
# too: a movement's location and quantity_after are the row's (``from_payload``).
STOCK_LEVELS = ReadTable(
    name="read_stock_level",
    label="stock levels",
    model="StockLevelView",
    key_type="text",
    key="key",
    columns=(
        Column(
            "key",
            "sl.product_id::text || ':' || l.code",
            from_payload="%(product_id)s || ':' || %(location)s",
            field=models.CharField(max_length=80),
        ),
        Column("product_id", "sl.product_id", from_payload="%(product_id)s", field=models.UUIDField()),
        Column("location", "l.code", "location", field=models.CharField(max_length=32)),
        Column("quantity", "sl.quantity", "quantity", from_payload="%(quantity_after)s", field=models.IntegerField()),
    ),
    sources="""products_stocklevel sl JOIN products_location l ON l.id = sl.location_id
      JOIN products_product p ON p.id = sl.product_id""",
    scope="NOT p.is_archived",
    indexes=(
        models.Index(fields=["product_id", "location"], name="read_stock_level_product"),
        # The list's `location` filter: the products with stock there, without a scan.
        models.Index(
            fields=["location", "product_id"], condition=models.Q(quantity__gt=0), name="read_stock_level_held"
        ),
    ),
)

CATEGORIES = ReadTable(
    name="read_category",
    label="categories",
    model="CategoryView",
    key_type="text",
    key="slug",
    columns=(
        Column("slug", "c.slug", "slug", field=models.CharField(max_length=100)),
        Column("name", "c.name", "name", field=models.CharField(max_length=100)),
        Column("created_at", "c.created_at", "created_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
        Column("updated_at", "c.updated_at", "updated_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
    ),
    sources="products_category c",
)

LOCATIONS = ReadTable(
    name="read_location",
    label="locations",
    model="LocationView",
    key_type="text",
    key="code",
    columns=(
        Column("code", "l.code", "code", field=models.CharField(max_length=32)),
        Column("name", "l.name", "name", field=models.CharField(max_length=100)),
        Column("is_active", "l.is_active", "is_active", field=models.BooleanField()),
        Column("created_at", "l.created_at", "created_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
        Column("updated_at", "l.updated_at", "updated_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
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
    model="ReservationView",
    key_type="uuid",
    key="id",
    columns=(
        Column("id", "r.id", "id", "{}::text", field=models.UUIDField()),
        # The write side's status (payloads carry it); a read shows it as SHOWN_STATUS.
        Column("status", "r.status", "status", SHOWN_STATUS, json="{}", field=models.CharField(max_length=10)),
        Column("reference", "r.reference", "reference", field=models.CharField(max_length=200, null=True)),
        Column("expires_at", "r.expires_at", "expires_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
        # [{"product", "sku", "location", "quantity"}]
        Column("lines", f"({RESERVATION_LINES})", "lines", from_payload="%(lines)s::jsonb", field=models.JSONField()),
        Column("version", "r.version", from_payload="%(version)s", field=models.IntegerField()),
        Column("created_at", "r.created_at", "created_at", json=UTC_TIMESTAMP, field=models.DateTimeField()),
        Column("updated_at", "r.updated_at", from_payload="%(updated_at)s", field=models.DateTimeField()),
    ),
    sources="products_reservation r",
    version="version",
    # Newest first, and newest first within a reference.
    indexes=(
        models.Index(fields=["created_at", "id"], name="read_reservation_created"),
        models.Index(fields=["reference", "created_at", "id"], name="read_reservation_reference"),
    ),
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
    model="StockHoldView",
    key_type="text",
    key="key",
    columns=(
        Column(
            "key",
            "rl.reservation_id::text || ':' || rl.product_id::text || ':' || l.code",
            from_payload="%(key)s",
            field=models.CharField(max_length=120),
        ),
        Column("reservation_id", "rl.reservation_id", from_payload="%(reservation_id)s", field=models.UUIDField()),
        Column("product_id", "rl.product_id", from_payload="%(product_id)s", field=models.UUIDField()),
        Column("location", "l.code", from_payload="%(location)s", field=models.CharField(max_length=32)),
        Column("quantity", "rl.quantity", from_payload="%(quantity)s", field=models.IntegerField()),
        Column("expires_at", "rl.held_until", from_payload="%(expires_at)s", field=models.DateTimeField()),
    ),
    sources="products_reservationline rl JOIN products_location l ON l.id = rl.location_id",
    scope="rl.held_until IS NOT NULL",
    indexes=(
        models.Index(fields=["product_id", "location", "expires_at"], name="read_stock_hold_product"),
        models.Index(fields=["reservation_id"], name="read_stock_hold_reservation"),
    ),
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
    # OFFSET 0 keeps the lateral subquery from being flattened: flattened, the planner copies
    # the sum into every select-list item that reads held.reserved (three sums per row).
    source = f"{source} CROSS JOIN LATERAL (SELECT {reserved} AS reserved OFFSET 0) held"
    return PRODUCTS.api_select(source=source, fields=fields, extra=(*AVAILABILITY, *extra))
