"""The floor: a bare WSGI function that runs the service's own SQL on its read table.

No framework, no validation, no links: parse the query string, run the one statement the
service would run (same columns, filters, order and LIMIT page_size + 1), json.dumps the rows.
One psycopg2 connection per worker, opened on the first request. Paths mirror the service's:
``/api/products/<uuid>/`` and ``/api/products/?search=&category=&ordering=&cursor=``.

Writes (for bench/write.py): ``POST /api/products/<int>/stock/`` with ``{"delta": n}`` runs one
statement in autocommit on the baseline's tables (``FLOOR_WRITE_DATABASE_URL``): the bounded
``UPDATE shop_product SET quantity = quantity + delta`` and the ledger row the baseline also
writes, with the token of the Authorization header checked in the same statement (the ledger
row's ``created_by`` is its user). No lock taken first, no event log, no read model.
"""

import base64
import json
import os
import re
from urllib.parse import parse_qs

import psycopg2

SELECT = """
    SELECT id::text AS id, sku, name, description, category_slug AS category, category_name,
           price::text AS price, quantity, quantity > 0 AS in_stock, version, created_at, updated_at
      FROM read_product
"""
COLUMN_TYPES = {"sku": "text", "name": "text", "price": "numeric", "quantity": "integer", "created_at": "timestamptz"}
PAGE_SIZE = 20

# One round trip, one transaction (autocommit): nothing changes unless the token exists and
# the new quantity stays within bounds, and then the quantity and its ledger row change together.
ADJUST_STOCK = """
    WITH actor AS (
        SELECT user_id FROM authtoken_token WHERE key = %(token)s
    ), stock AS (
        UPDATE shop_product SET quantity = quantity + %(delta)s
         WHERE id = %(id)s AND quantity + %(delta)s BETWEEN 0 AND 1000000000 AND EXISTS (SELECT FROM actor)
        RETURNING id, quantity
    )
    INSERT INTO shop_stockmovement (product_id, delta, quantity_after, reason, created_at, created_by_id)
    SELECT stock.id, %(delta)s, stock.quantity, %(reason)s, now(), actor.user_id FROM stock, actor
    RETURNING product_id, quantity_after
"""

_connections = {}


def _cursor(variable="FLOOR_DATABASE_URL"):
    if variable not in _connections:
        connection = psycopg2.connect(os.environ[variable])
        connection.autocommit = True
        _connections[variable] = connection
    return _connections[variable].cursor()


def _respond(start_response, status, payload):
    body = json.dumps(payload, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _adjust_stock(environ, start_response, product_id):
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("Token "):
        return _respond(start_response, "401 Unauthorized", {"detail": "No token."})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        data = json.loads(environ["wsgi.input"].read(length))
        delta = data["delta"]
        if type(delta) is not int:
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _respond(start_response, "400 Bad Request", {"delta": ["An integer is required."]})
    params = {"token": authorization[6:], "delta": delta, "id": product_id, "reason": str(data.get("reason", ""))}
    with _cursor("FLOOR_WRITE_DATABASE_URL") as cursor:
        cursor.execute(ADJUST_STOCK, params)
        row = cursor.fetchone()
    if row is None:
        # Unknown token, product or a change out of bounds: the floor does not say which.
        return _respond(start_response, "409 Conflict", {"detail": "Not applied."})
    return _respond(start_response, "200 OK", {"id": row[0], "quantity": row[1]})


def _rows(sql, params):
    with _cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _list_sql(query):
    where, params = [], []
    words = re.findall(r"[^\W_]+", query.get("search", "").lower())
    if words:
        where.append("id IN (SELECT id FROM read_product_search WHERE search_document @@ to_tsquery('simple', %s))")
        params.append(" & ".join(f"{word}:*" for word in words))
    if "category" in query:
        where.append("category_slug = %s")
        params.append(query["category"])
    ordering = query.get("ordering", "sku")
    column = ordering.lstrip("-")
    sort = "DESC" if ordering.startswith("-") else "ASC"
    if "cursor" in query:
        raw = query["cursor"]
        _, _, value, row_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        operator = "<" if sort == "DESC" else ">"
        where.append(f"(read_product.{column}, read_product.id) {operator} (%s::{COLUMN_TYPES[column]}, %s::uuid)")
        params += [value, row_id]
    # Qualified, as the service writes them: a bare name would sort by the text output column.
    order_by = f"read_product.{column} {sort}, read_product.id {sort}"
    sql = f"{SELECT} WHERE {' AND '.join(where) or 'TRUE'} ORDER BY {order_by} LIMIT %s"
    return sql, [*params, PAGE_SIZE + 1]


def application(environ, start_response):
    path = environ["PATH_INFO"]
    stock = re.fullmatch(r"/api/products/([0-9]+)/stock/", path)
    if stock and environ["REQUEST_METHOD"] == "POST":
        return _adjust_stock(environ, start_response, int(stock.group(1)))
    detail = re.fullmatch(r"/api/products/([0-9a-f-]{36})/", path)
    if detail:
        rows = _rows(f"{SELECT} WHERE id = %s", [detail.group(1)])
    elif path == "/api/products/":
        query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
        rows = _rows(*_list_sql(query))
    else:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b"{}"]
    body = json.dumps(rows, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
