"""The bare ASGI yardstick: FastAPI and an asyncpg pool running the read API's own SQL, and nothing else.

No parameter reading, no authentication, no page links, no cursors: ``/api/products/`` runs the
first page's statement of the product list and ``/api/products/<uuid>/`` the detail's, as the
read API builds them (products.read.queries), and answers the rows as JSON. What the read API
costs beyond this is its own work. The database is ``BARE_DATABASE_URL``. Its pool skips asyncpg's
reset query on each release, as the read API's does (products/readapi/db.py), so that both make
one round trip per request.
"""

import contextlib
import os
import uuid

import asyncpg
import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from products.read.queries import GetProduct, ListProducts
from products.read.queries.products import get_product, list_products
from products.readapi.db import keep_session, numbered

LIST = list_products(ListProducts())
LIST_SQL = numbered(LIST.sql)
DETAIL_SQL = numbered(get_product(GetProduct(product_id=uuid.UUID(int=0))).sql)
_pool = {}


@contextlib.asynccontextmanager
async def lifespan(app):
    _pool["pool"] = await asyncpg.create_pool(
        os.environ["BARE_DATABASE_URL"], min_size=0, max_size=10, reset=keep_session
    )
    yield
    await _pool["pool"].close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


def _json(rows):
    return Response(orjson.dumps([dict(row) for row in rows], option=orjson.OPT_UTC_Z), media_type="application/json")


@app.get("/api/products/")
async def products(request: Request):
    return _json(await _pool["pool"].fetch(LIST_SQL, *LIST.params))


@app.get("/api/products/{product_id}/")
async def product(request: Request):
    return _json(await _pool["pool"].fetch(DETAIL_SQL, uuid.UUID(request.path_params["product_id"])))
