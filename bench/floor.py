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

Checkouts (for bench/checkout.py), on the same tables plus the baseline's reservation tables:
``POST /api/reservations/`` with ``{"lines": [{"product": <int>, "quantity": n}, ...]}`` takes two
statements in one transaction: lock the products in id order, then (a new snapshot, so it sees the
lines of whoever held the locks before) check what active reservations hold and insert the
reservation and its lines unless a line is short (409 with the short lines). ``POST
/api/reservations/<int>/commit/`` locks the reservation if active and unexpired and its products
in id order, then takes the units off with their ledger rows and marks it committed in one
statement. No validation beyond the types, no serializer: the response is the id and status.
"""

import base64
import json
import os
import re
from urllib.parse import parse_qs

import psycopg2

# in_stock comes from what active reservations hold, counted when the statement runs, as the
# service counts it (products.read.tables.product_select over read_stock_hold).
SELECT = """
    SELECT id::text AS id, sku, name, description, category_slug AS category, category_name,
           price::text AS price, quantity, held.reserved AS reserved, quantity - held.reserved AS available,
           quantity - held.reserved > 0 AS in_stock, version, created_at, updated_at
      FROM read_product CROSS JOIN LATERAL (
           SELECT coalesce(sum(h.quantity), 0)::bigint AS reserved FROM read_stock_hold h
            WHERE h.product_id = read_product.id AND h.expires_at > now()) held
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

# Reserve, statement 1 of 2: the products' locks, in id order (the baseline takes them the same way).
LOCK_PRODUCTS = "SELECT id FROM shop_product WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE"
# Reserve, statement 2 of 2: a new snapshot, taken once the locks are held, sees every reservation
# committed by the transactions that held them before.
RESERVE = """
    WITH actor AS (
        SELECT user_id FROM authtoken_token WHERE key = %(token)s
    ), wanted AS (
        SELECT * FROM unnest(%(ids)s::bigint[], %(quantities)s::int[]) AS w(product_id, quantity)
    ), held AS (
        SELECT l.product_id, sum(l.quantity) AS units
          FROM shop_reservationline l JOIN shop_reservation r ON r.id = l.reservation_id
         WHERE l.product_id = ANY(%(ids)s) AND r.status = 'active' AND r.expires_at > now()
         GROUP BY l.product_id
    ), short AS (
        SELECT w.product_id AS product, w.quantity AS requested,
               coalesce(p.quantity, 0) - coalesce(held.units, 0) AS available
          FROM wanted w LEFT JOIN shop_product p ON p.id = w.product_id
          LEFT JOIN held ON held.product_id = w.product_id
         WHERE coalesce(p.quantity, 0) - coalesce(held.units, 0) < w.quantity
    ), reservation AS (
        INSERT INTO shop_reservation (reference, status, expires_at, created_at, created_by_id)
        SELECT %(reference)s, 'active', now() + make_interval(secs => %(expires_in)s), now(), actor.user_id
          FROM actor WHERE NOT EXISTS (SELECT FROM short)
        RETURNING id
    ), lines AS (
        INSERT INTO shop_reservationline (reservation_id, product_id, location, quantity)
        SELECT reservation.id, w.product_id, 'main', w.quantity FROM reservation, wanted w
    )
    SELECT (SELECT id FROM reservation), (SELECT coalesce(json_agg(short), '[]') FROM short)
"""
# Commit, statement 1 of 2: the reservation's lock (only while active and unexpired, rechecked
# after a wait), then its products' locks in id order.
LOCK_RESERVATION = """
    WITH r AS (
        SELECT id FROM shop_reservation WHERE id = %(id)s AND status = 'active' AND expires_at > now() FOR UPDATE
    ), p AS (
        SELECT id FROM shop_product
         WHERE id IN (SELECT product_id FROM shop_reservationline WHERE reservation_id IN (SELECT id FROM r))
         ORDER BY id FOR UPDATE
    )
    SELECT (SELECT id FROM r), (SELECT count(*) FROM p)
"""
# Commit, statement 2 of 2: the units leave the stock (never below 0), a ledger row each, the status.
COMMIT = """
    WITH stock AS (
        UPDATE shop_product p SET quantity = p.quantity - l.quantity
          FROM shop_reservationline l
         WHERE l.reservation_id = %(id)s AND p.id = l.product_id AND p.quantity >= l.quantity
        RETURNING p.id, p.quantity, l.quantity AS units
    ), ledger AS (
        INSERT INTO shop_stockmovement (product_id, delta, quantity_after, reason, created_at, created_by_id)
        SELECT stock.id, -stock.units, stock.quantity, 'reservation ' || %(id)s, now(),
               (SELECT user_id FROM authtoken_token WHERE key = %(token)s)
          FROM stock
    ), done AS (
        UPDATE shop_reservation SET status = 'committed' WHERE id = %(id)s RETURNING id
    )
    SELECT (SELECT count(*) FROM stock), (SELECT id FROM done)
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


def _transaction():
    """A connection of its own for the checkout's two-statement transactions (not autocommit)."""
    if "transactions" not in _connections:
        _connections["transactions"] = psycopg2.connect(os.environ["FLOOR_WRITE_DATABASE_URL"])
    return _connections["transactions"]


def _reserve(environ, start_response):
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("Token "):
        return _respond(start_response, "401 Unauthorized", {"detail": "No token."})
    try:
        data = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        ids = [line["product"] for line in data["lines"]]
        quantities = [line["quantity"] for line in data["lines"]]
        if not ids or any(type(value) is not int for value in ids + quantities) or min(quantities) < 1:
            raise TypeError
        if len(set(ids)) != len(ids):
            raise ValueError
        expires_in = int(data.get("expires_in", 900))
    except (ValueError, KeyError, TypeError):
        return _respond(start_response, "400 Bad Request", {"lines": ["Distinct products, quantities >= 1."]})
    params = {"token": authorization[6:], "ids": ids, "quantities": quantities, "expires_in": expires_in}
    params["reference"] = str(data.get("reference", ""))
    connection = _transaction()
    with connection, connection.cursor() as cursor:
        cursor.execute(LOCK_PRODUCTS, params)
        cursor.execute(RESERVE, params)
        reservation_id, short = cursor.fetchone()
    if reservation_id is None:
        # Short lines, or an unknown token or product (then no line is listed as short).
        return _respond(start_response, "409 Conflict", {"code": "insufficient_stock", "lines": short})
    body = json.dumps({"id": reservation_id, "status": "active"}).encode()
    start_response(
        "201 Created",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Location", f"/api/reservations/{reservation_id}/"),
        ],
    )
    return [body]


def _commit(environ, start_response, reservation_id):
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("Token "):
        return _respond(start_response, "401 Unauthorized", {"detail": "No token."})
    params = {"id": reservation_id, "token": authorization[6:]}
    connection = _transaction()
    with connection, connection.cursor() as cursor:
        cursor.execute(LOCK_RESERVATION, params)
        locked, products = cursor.fetchone()
        if locked is None:
            return _respond(start_response, "409 Conflict", {"code": "not_active"})
        cursor.execute(COMMIT, params)
        changed, _ = cursor.fetchone()
        if changed != products:
            connection.rollback()
            return _respond(start_response, "409 Conflict", {"code": "insufficient_stock"})
    return _respond(start_response, "200 OK", {"id": reservation_id, "status": "committed"})


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
    if path == "/api/reservations/" and environ["REQUEST_METHOD"] == "POST":
        return _reserve(environ, start_response)
    commit = re.fullmatch(r"/api/reservations/([0-9]+)/commit/", path)
    if commit and environ["REQUEST_METHOD"] == "POST":
        return _commit(environ, start_response, int(commit.group(1)))
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
