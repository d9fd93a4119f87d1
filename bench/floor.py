"""The floor: a bare WSGI function that runs the service's own SQL on its read table.

No framework, no validation, no links: parse the query string, run the one statement the
service would run (same columns, filters, order and LIMIT page_size + 1), json.dumps the rows.
One psycopg2 connection per worker, opened on the first request. Paths mirror the service's:
``/api/products/<uuid>/`` and ``/api/products/?search=&category=&ordering=&cursor=``.
"""

import base64
import json
import os
import re
from urllib.parse import parse_qs

import psycopg2

SELECT = """
    SELECT id::text AS id, sku, name, description, category_slug AS category, category_name,
           price::text AS price, quantity, in_stock, version, created_at, updated_at
      FROM read_product
"""
COLUMN_TYPES = {"sku": "text", "name": "text", "price": "numeric", "quantity": "integer", "created_at": "timestamptz"}
PAGE_SIZE = 20

_connection = None


def _cursor():
    global _connection
    if _connection is None:
        _connection = psycopg2.connect(os.environ["FLOOR_DATABASE_URL"])
        _connection.autocommit = True
    return _connection.cursor()


def _rows(sql, params):
    with _cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _list_sql(query):
    where, params = [], []
    words = re.findall(r"[^\W_]+", query.get("search", "").lower())
    if words:
        where.append("search_document @@ to_tsquery('simple', %s)")
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
