"""Keyset pagination of the read tables, and the opaque cursors that carry a page's edge.

A cursor holds the sort value and id of the row at the edge of a page, and the next page
starts strictly after it, so deep pages cost what the first does and concurrent writes
never make a page repeat or skip a row. Page sizes are capped here, and only here.

A cursor also names the list it belongs to: a digest of the table, the ordering and every
condition with its value (the product of a ledger, the filters of the product list). Used
on another list it would start after a row that list may not hold, so it is refused (400).
The page size is no part of the list: it may change from one page to the next.
"""

import base64
import binascii
import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from urllib import parse
from uuid import UUID

import orjson
from django.utils.dateparse import parse_datetime

from products.errors import InvalidCursorError
from products.read.statement import READ_STORE, Statement

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    """A page of rows with the cursors of its neighbours (None at either end)."""

    results: list
    next_cursor: str | None
    previous_cursor: str | None


def _canonical(value):
    """Return a query parameter as the list key spells it: one spelling per value ("5" and "5.00" alike)."""
    if isinstance(value, Decimal):
        return str(value.normalize())
    return str(value)  # a UUID (lower case), a datetime


def list_key(table, ordering, where, params):
    """Return a short digest that names one list: its table, its ordering and its conditions with their values."""
    text = orjson.dumps([table, ordering, where, params], default=_canonical)
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def encode_cursor(key, direction, value, row_id):
    """Return an opaque cursor of list ``key`` for the row with sort ``value`` and ``row_id``."""
    payload = orjson.dumps([key, direction, value, row_id], default=str)
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor, key):
    """Return ``(direction, value, row_id)`` from a cursor, which must belong to list ``key``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_key, direction, value, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if direction not in ("next", "previous"):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursorError("Invalid cursor: take it from next or previous.") from None
    if cursor_key != key:
        raise InvalidCursorError(
            "This cursor belongs to another list (another product, other filters or another ordering): "
            "start from the first page of this one."
        )
    return direction, value, row_id


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


def keyset_statement(
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
    store=READ_STORE,
):
    """Return the statement of one keyset page of ``table`` by (``key``, ``id_key``), at most MAX_PAGE_SIZE rows.

    Its answer is a ``Page``. A bad cursor is refused here, before any SQL runs.
    """
    # ORDER BY would otherwise resolve a bare name to the SELECT's output column, and the
    # product select renders price and id as text: "9.00" would sort after "12.50", and the
    # order would disagree with the numeric comparison in WHERE, repeating or skipping rows.
    key_sql, id_sql = f"{table}.{key}", f"{table}.{id_key}"
    this_list = list_key(table, ordering, where, params)
    direction = "next"
    if cursor is not None:
        direction, value, row_id = decode_cursor(cursor, this_list)
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
    page_size = min(page_size, MAX_PAGE_SIZE)
    first_page = cursor is None

    def page(rows):
        has_more = len(rows) > page_size
        rows = rows[:page_size]
        if reverse:
            rows.reverse()

        def edge(row, to):
            return encode_cursor(this_list, to, row[key], row[id_key])

        if reverse:
            next_cursor = edge(rows[-1], "next") if rows else None
            previous_cursor = edge(rows[0], "previous") if rows and has_more else None
        else:
            next_cursor = edge(rows[-1], "next") if rows and has_more else None
            previous_cursor = edge(rows[0], "previous") if rows and not first_page else None
        return Page(rows, next_cursor, previous_cursor)

    return Statement(sql, [*params, page_size + 1], page, store)


def page_links(url, page):
    """Return a page's ``next`` and ``previous`` as absolute links: ``url`` (the request's) with their cursor.

    The other parameters stay, sorted by name (as DRF's ``replace_query_param`` writes them),
    so both read APIs link a page alike.
    """

    def link(cursor):
        if not cursor:
            return None
        scheme, netloc, path, query, fragment = parse.urlsplit(url)
        params = parse.parse_qs(query, keep_blank_values=True)
        params["cursor"] = [cursor]
        return parse.urlunsplit((scheme, netloc, path, parse.urlencode(sorted(params.items()), doseq=True), fragment))

    return link(page.next_cursor), link(page.previous_cursor)
