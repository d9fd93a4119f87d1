"""Queries and their handlers: read the read tables only, one SQL statement each.

Lists use keyset pagination: a cursor holds the sort value and id of the row at the edge
of a page, and the next page starts strictly after it, so deep pages cost what the first
does and concurrent writes never make a page repeat or skip a row.
"""

import base64
import binascii
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import orjson
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.dateparse import parse_datetime

from cqrs_demo.bus import Query
from cqrs_demo.routers import read_query_alias
from products.errors import CategoryNotFoundError, InvalidCursorError, ProductNotFoundError

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

PRODUCT_ORDERINGS = {
    # API name: (column, SQL type used to read a cursor value back)
    "sku": ("sku", "text"),
    "name": ("name", "text"),
    "price": ("price", "numeric"),
    "quantity": ("quantity", "integer"),
    "created_at": ("created_at", "timestamptz"),
}

_PRODUCT_SELECT = """
    SELECT id::text AS id, sku, name, description, category_slug AS category, category_name,
           price::text AS price, quantity, in_stock, version, created_at, updated_at
      FROM read_product
"""


@dataclass(frozen=True)
class Page:
    """A page of rows with the cursors of its neighbours (None at either end)."""

    results: list
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True)
class GetProduct(Query):
    product_id: UUID


@dataclass(frozen=True)
class ListProducts(Query):
    search: str = ""
    category: str | None = None
    in_stock: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    ordering: str = "sku"
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


@dataclass(frozen=True)
class GetStock(Query):
    product_id: UUID


@dataclass(frozen=True)
class ListStockMovements(Query):
    product_id: UUID
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


@dataclass(frozen=True)
class ListProductEvents(Query):
    product_id: UUID
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


@dataclass(frozen=True)
class GetCategory(Query):
    slug: str


@dataclass(frozen=True)
class ListCategories(Query):
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def _fetch(sql, params, using=None):
    with connections[using or read_query_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def encode_cursor(ordering, direction, value, row_id):
    """Return an opaque cursor for the row with sort ``value`` and ``row_id``."""
    payload = orjson.dumps([ordering, direction, value, row_id], default=str)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor, ordering):
    """Return ``(direction, value, row_id)`` from a cursor made for ``ordering``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_ordering, direction, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if cursor_ordering != ordering or direction not in ("next", "previous"):
            raise ValueError
        return direction, value, row_id
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursorError("Invalid cursor (it may belong to another ordering).") from None


_INTEGER_LIMITS = {"integer": 2**31, "bigint": 2**63}


def _cursor_value(value, sql_type):
    """Return a cursor's ``value`` as PostgreSQL can read it as ``sql_type``, or refuse the cursor.

    Cursors come back from clients, so a value the cast would choke on must be a 400, not a 500.
    """
    try:
        if sql_type in _INTEGER_LIMITS:
            limit = _INTEGER_LIMITS[sql_type]
            if type(value) is not int or not -limit <= value < limit:
                raise ValueError
            return value
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError
        if sql_type == "numeric":
            number = Decimal(value)
            if not number.is_finite() or number.as_tuple().exponent < -20 or abs(number) >= 10**15:
                raise ValueError
            return number
        if sql_type == "uuid":
            return str(UUID(value))
        if sql_type == "timestamptz":
            moment = parse_datetime(value)
            if moment is None:
                raise ValueError
            return moment.astimezone(datetime.UTC)
        return value
    except (ValueError, ArithmeticError):
        raise InvalidCursorError("Invalid cursor.") from None


def _keyset_page(
    select,
    where,
    params,
    *,
    table,
    ordering,
    key,
    id_key,
    id_type,
    column_type,
    descending,
    page_size,
    cursor,
    using=None,
):
    """Run ``select`` for one keyset page ordered by (``key``, ``id_key``) of ``table``."""
    # ORDER BY would otherwise resolve a bare name to the SELECT's output column, and the
    # product select renders price and id as text: "9.00" would sort after "12.50", and the
    # order would disagree with the numeric comparison in WHERE, repeating or skipping rows.
    key_sql, id_sql = f"{table}.{key}", f"{table}.{id_key}"
    direction = "next"
    if cursor is not None:
        direction, value, row_id = decode_cursor(cursor, ordering)
        row_id = _cursor_value(row_id, id_type)
        # Walking backwards flips the comparison and the sort, then the page is reversed.
        forward = (direction == "next") != descending
        operator = ">" if forward else "<"
        if key == id_key:
            where = [*where, f"{id_sql} {operator} %s::{id_type}"]
            params = [*params, row_id]
        else:
            where = [*where, f"({key_sql}, {id_sql}) {operator} (%s::{column_type}, %s::{id_type})"]
            params = [*params, _cursor_value(value, column_type), row_id]
    reverse = direction == "previous"
    sort = "DESC" if descending != reverse else "ASC"
    order_by = f"{id_sql} {sort}" if key == id_key else f"{key_sql} {sort}, {id_sql} {sort}"
    sql = f"{select} WHERE {' AND '.join(where) or 'TRUE'} ORDER BY {order_by} LIMIT %s"
    rows = _fetch(sql, [*params, page_size + 1], using)
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    if reverse:
        rows.reverse()

    def edge(row, to):
        return encode_cursor(ordering, to, row[key], row[id_key])

    if reverse:
        next_cursor = edge(rows[-1], "next") if rows else None
        previous_cursor = edge(rows[0], "previous") if rows and has_more else None
    else:
        next_cursor = edge(rows[-1], "next") if rows and has_more else None
        previous_cursor = edge(rows[0], "previous") if rows and cursor is not None else None
    return Page(rows, next_cursor, previous_cursor)


def search_tsquery(text):
    """Return a tsquery in which every word of ``text`` must start a word of the document."""
    words = re.findall(r"[^\W_]+", text.lower())
    return " & ".join(f"{word}:*" for word in words)


def get_product(query):
    """Return the representation of an active product."""
    rows = _fetch(f"{_PRODUCT_SELECT} WHERE id = %s", [query.product_id])
    if not rows:
        raise ProductNotFoundError("Product not found.")
    return rows[0]


def list_products(query):
    """Return one page of active products matching the filters."""
    where, params = [], []
    tsquery = search_tsquery(query.search)
    if tsquery:
        where.append("search_document @@ to_tsquery('simple', %s)")
        params.append(tsquery)
    if query.category is not None:
        where.append("category_slug = %s")
        params.append(query.category)
    if query.in_stock is not None:
        where.append("in_stock = %s")
        params.append(query.in_stock)
    if query.min_price is not None:
        where.append("price >= %s")
        params.append(query.min_price)
    if query.max_price is not None:
        where.append("price <= %s")
        params.append(query.max_price)
    name = query.ordering.lstrip("-")
    column, column_type = PRODUCT_ORDERINGS[name]
    return _keyset_page(
        _PRODUCT_SELECT,
        where,
        params,
        table="read_product",
        ordering=query.ordering,
        key=column,
        id_key="id",
        id_type="uuid",
        column_type=column_type,
        descending=query.ordering.startswith("-"),
        page_size=min(query.page_size, MAX_PAGE_SIZE),
        cursor=query.cursor,
    )


def get_stock(query):
    """Return the stock of an active product."""
    rows = _fetch("SELECT sku, quantity, in_stock, version FROM read_product WHERE id = %s", [query.product_id])
    if not rows:
        raise ProductNotFoundError("Product not found.")
    return rows[0]


def _product_rows_page(select, table, query, *, descending, using=None):
    """Return one page of a product's rows (ledger or events), keyset-paginated by id.

    Every product has at least one such row (its opening ledger row, its ProductCreated
    event), so an empty first page means the product is unknown: one query, not two.
    """
    page = _keyset_page(
        select,
        ["product_id = %s"],
        [query.product_id],
        table=table,
        ordering="-id" if descending else "id",
        key="id",
        id_key="id",
        id_type="bigint",
        column_type="bigint",
        descending=descending,
        page_size=min(query.page_size, MAX_PAGE_SIZE),
        cursor=query.cursor,
        using=using,
    )
    if not page.results and query.cursor is None:
        raise ProductNotFoundError("Product not found.")
    return page


def list_stock_movements(query):
    """Return one page of an active product's ledger, newest first (archived products: 404)."""
    page = _product_rows_page(
        "SELECT id, delta, quantity_after, reason, created_at FROM read_stock_movement",
        "read_stock_movement",
        query,
        descending=True,
    )
    for row in page.results:
        del row["id"]
    return page


def list_product_events(query):
    """Return one page of a product's event history, oldest first, archived products included.

    The one query not served by a read table: the event log is itself an append-only record
    made for reading in order, and it is the audit trail, so it is read where it is written.
    """
    page = _product_rows_page(
        "SELECT id, type, created_at AS occurred_at, payload AS data FROM products_event",
        "products_event",
        query,
        descending=False,
        using=DEFAULT_DB_ALIAS,
    )
    for row in page.results:
        row["data"] = orjson.loads(row["data"])  # Django hands jsonb over as text
    return page


def get_category(query):
    """Return a category."""
    rows = _fetch("SELECT slug, name, created_at, updated_at FROM read_category WHERE slug = %s", [query.slug])
    if not rows:
        raise CategoryNotFoundError("Category not found.")
    return rows[0]


def list_categories(query):
    """Return one page of categories ordered by slug."""
    return _keyset_page(
        "SELECT slug, name, created_at, updated_at FROM read_category",
        [],
        [],
        table="read_category",
        ordering="slug",
        key="slug",
        id_key="slug",
        id_type="text",
        column_type="text",
        descending=False,
        page_size=min(query.page_size, MAX_PAGE_SIZE),
        cursor=query.cursor,
    )


HANDLERS = {
    GetProduct: get_product,
    ListProducts: list_products,
    GetStock: get_stock,
    ListStockMovements: list_stock_movements,
    ListProductEvents: list_product_events,
    GetCategory: get_category,
    ListCategories: list_categories,
}
