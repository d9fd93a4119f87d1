"""The read API's FastAPI application: every GET of the API, answered as the Django API answers it.

Each endpoint reads its parameters (``params``), builds the read side's statement for its query
(``products.read.queries.STATEMENTS``, the SQL the Django API runs) and runs it on the pool. The
handlers take the raw request and answer with orjson bytes: FastAPI's own parameter parsing and
response models would answer bad input with other status codes and bodies (422) than the Django
API's, so the OpenAPI parameters and responses are declared (``openapi``) rather than inferred.
"""

import contextlib
import datetime
import logging
import re
from uuid import UUID

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from products import errors
from products.events import feed
from products.read import lag, queries
from products.read.lag import PROJECTOR_CONSUMER, PROJECTOR_POSITION
from products.read.pagination import page_links
from products.read.params import InvalidParams, page_params, product_list_params, reservation_list_params
from products.read.statement import READ_STORE, WRITE_STORE
from products.readapi import openapi
from products.readapi.auth import AuthenticationFailed, authenticate
from products.readapi.config import Config
from products.readapi.db import UNAVAILABLE, Databases

logger = logging.getLogger("cqrs_demo.readapi")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # the Django router's lookup_value_regex of each collection
_CODE = re.compile(r"[-a-z0-9_]+")
# As the Django API renders: datetimes end in "Z"; a list's error messages are keyed by index.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_NOT_FOUND_STATUS = 404
_UNSLASHED = ("/api/openapi.json", "/api/docs/assets/")  # files, whose paths take no slash
_UNAVAILABLE = {"detail": "The database is unavailable; try again shortly.", "code": "database_unavailable"}


def json_response(body, status_code=200, headers=None):
    return Response(orjson.dumps(body, option=_JSON_OPTIONS), status_code, headers, "application/json")


class _NotFoundPath(Exception):
    """The path names no resource the Django router would match (not a UUID, not a slug)."""


def _lookup(value, pattern):
    if not pattern.fullmatch(value):
        raise _NotFoundPath
    return value


def _domain_error(error):
    """Answer a query's refusal as products.http.errors.domain_error_response does."""
    if isinstance(
        error,
        errors.ProductNotFoundError
        | errors.CategoryNotFoundError
        | errors.LocationNotFoundError
        | errors.ReservationNotFoundError,
    ):
        return json_response({"detail": error.message}, _NOT_FOUND_STATUS)
    return json_response({error.field or "non_field_errors": [error.message]}, 400)


def create_app(config=None):
    """Return the read API's application; its pools open with the application's lifespan.

    gunicorn calls it with the settings from the environment: ``products.readapi.app:create_app()``.
    """
    config = config or Config.from_env()
    databases = Databases(
        config.read_url,
        config.write_url,
        min_size=config.pool_min,
        max_size=config.pool_max,
        timeout=config.pool_timeout,
        statement_timeout_ms=config.statement_timeout_ms,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await databases.open()
        yield
        await databases.close()

    app = FastAPI(
        title="Product inventory read API",
        description=(
            "Every GET of the product inventory API, served from the read tables by an ASGI service. "
            "Writes go to the Django API."
        ),
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        redirect_slashes=False,
    )
    app.state.databases = databases
    app.state.config = config

    async def answer(request, build):
        """Authenticate, then run the statement ``build`` returns (it may refuse the request first)."""
        try:
            await authenticate(databases, request.headers, reads_require_auth=config.reads_require_auth)
            return await databases.run(build())
        except InvalidParams as error:
            return json_response(error.errors, 400)
        except errors.DomainError as error:
            return _domain_error(error)

    def page(request, page):
        # The request's absolute URL as Django builds it: the scheme a TLS proxy reports, the Host header.
        scheme = "https" if request.headers.get("x-forwarded-proto") == "https" else request.scope["scheme"]
        query = request.scope["query_string"].decode("latin-1")
        url = f"{scheme}://{request.headers.get('host', '')}{request.scope['path']}" + (f"?{query}" if query else "")
        next_link, previous_link = page_links(url, page)
        return json_response({"next": next_link, "previous": previous_link, "results": page.results})

    def with_etag(body):
        if isinstance(body, Response):
            return body
        return json_response(body, headers={"ETag": f'"{body["version"]}"'})

    def paged(result, request):
        return result if isinstance(result, Response) else page(request, result)

    def plain(result):
        return result if isinstance(result, Response) else json_response(result)

    def product_id(request):
        return UUID(_lookup(request.path_params["id"], _UUID))

    @app.get("/api/products/", **openapi.PRODUCTS_LIST)
    async def products_list(request: Request):
        def build():
            return queries.products.list_products(queries.ListProducts(**product_list_params(request.query_params)))

        return paged(await answer(request, build), request)

    @app.get("/api/products/{id}/", **openapi.PRODUCTS_RETRIEVE)
    async def products_retrieve(request: Request):
        query = queries.GetProduct(product_id=product_id(request))
        return with_etag(await answer(request, lambda: queries.products.get_product(query)))

    @app.get("/api/products/{id}/stock/", **openapi.PRODUCTS_STOCK)
    async def products_stock(request: Request):
        query = queries.GetStock(product_id=product_id(request))
        return with_etag(await answer(request, lambda: queries.stock.get_stock(query)))

    @app.get("/api/products/{id}/stock/movements/", **openapi.PRODUCTS_MOVEMENTS)
    async def products_movements(request: Request):
        pk = product_id(request)

        def build():
            params = page_params(request.query_params)
            return queries.stock.list_stock_movements(queries.ListStockMovements(product_id=pk, **params))

        return paged(await answer(request, build), request)

    @app.get("/api/products/{id}/events/", **openapi.PRODUCTS_EVENTS)
    async def products_events(request: Request):
        pk = product_id(request)

        def build():
            params = page_params(request.query_params)
            return queries.history.list_product_events(queries.ListProductEvents(product_id=pk, **params))

        return paged(await answer(request, build), request)

    @app.get("/api/categories/", **openapi.CATEGORIES_LIST)
    async def categories_list(request: Request):
        def build():
            return queries.categories.list_categories(queries.ListCategories(**page_params(request.query_params)))

        return paged(await answer(request, build), request)

    @app.get("/api/categories/{slug}/", **openapi.CATEGORIES_RETRIEVE)
    async def categories_retrieve(request: Request):
        query = queries.GetCategory(slug=_lookup(request.path_params["slug"], _SLUG))
        return plain(await answer(request, lambda: queries.categories.get_category(query)))

    @app.get("/api/locations/", **openapi.LOCATIONS_LIST)
    async def locations_list(request: Request):
        def build():
            return queries.locations.list_locations(queries.ListLocations(**page_params(request.query_params)))

        return paged(await answer(request, build), request)

    @app.get("/api/locations/{code}/", **openapi.LOCATIONS_RETRIEVE)
    async def locations_retrieve(request: Request):
        query = queries.GetLocation(code=_lookup(request.path_params["code"], _CODE))
        return plain(await answer(request, lambda: queries.locations.get_location(query)))

    @app.get("/api/reservations/", **openapi.RESERVATIONS_LIST)
    async def reservations_list(request: Request):
        def build():
            params = reservation_list_params(request.query_params)
            return queries.reservations.list_reservations(queries.ListReservations(**params))

        return paged(await answer(request, build), request)

    @app.get("/api/reservations/{id}/", **openapi.RESERVATIONS_RETRIEVE)
    async def reservations_retrieve(request: Request):
        query = queries.GetReservation(reservation_id=UUID(_lookup(request.path_params["id"], _UUID)))
        return plain(await answer(request, lambda: queries.reservations.get_reservation(query)))

    @app.get("/health/live", include_in_schema=False)
    async def live():
        return json_response({"status": "ok"})

    split = config.read_url != config.write_url

    @app.get("/health/ready", include_in_schema=False)
    async def ready():
        # The probe, not the reads, pays for knowing the databases answer: one query in single
        # mode; in split mode four, which also tell how far the read store is behind the log.
        try:
            if not split:
                await databases.fetch("SELECT 1", [], READ_STORE)
                return json_response({"status": "ok", "mode": "single"})
            return await _split_readiness()
        except UNAVAILABLE:
            return json_response({"status": "unavailable"}, 503, {"Retry-After": "5"})

    async def _split_readiness():
        """Answer as the Django API's readiness does about the feed: ready while the worker's slot exists."""
        body = {"status": "ok", "mode": "split"}
        [server] = await databases.fetch(feed.SERVER_SQL, [], WRITE_STORE)
        slot = feed.slot_for(PROJECTOR_CONSUMER, server["database"])
        behind = await databases.fetch(feed.SLOTS_BEHIND_SQL, [[slot]], WRITE_STORE)
        if problem := feed.wal_level_problem(server["wal_level"]) or (None if behind else feed.missing(slot)):
            return json_response({**body, "status": "unavailable", "feed": "unavailable", "detail": problem}, 503)
        applied = await databases.fetch(lag.APPLIED_SQL, [PROJECTOR_POSITION], READ_STORE)
        position = applied[0]["highest_event_id"] if applied else 0
        [log] = await databases.fetch(lag.LOG_SQL, [position], WRITE_STORE)
        projection = lag.report(position, log, slot, behind[0]["behind"], datetime.datetime.now(datetime.UTC))
        return json_response({**body, "projection": projection})

    _install_docs(app)
    _install_errors(app)
    return _with_api_trailing_slash(app)


def _install_docs(app):
    """Swagger UI at /api/docs/, from files the app serves itself (as the Django API's: nothing from outside)."""
    import drf_spectacular_sidecar  # the Swagger UI files the Django API serves too (a package of static files)

    dist = f"{drf_spectacular_sidecar.__path__[0]}/static/drf_spectacular_sidecar/swagger-ui-dist"
    app.mount("/api/docs/assets", StaticFiles(directory=dist), name="swagger-ui")

    @app.get("/api/docs/", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title}: Swagger UI",
            swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs/assets/swagger-ui.css",
            swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )


def _install_errors(app):
    @app.exception_handler(_NotFoundPath)
    async def not_found_path(request, exc):
        return json_response({"detail": "Not found."}, 404)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):
        if exc.status_code == 404:
            return json_response({"detail": "Not found."}, 404)
        if exc.status_code == 405:
            return json_response({"detail": f'Method "{request.method}" not allowed.'}, 405, exc.headers)
        return json_response({"detail": exc.detail}, exc.status_code, exc.headers)

    @app.exception_handler(AuthenticationFailed)
    async def not_authenticated(request, exc):
        return json_response({"detail": exc.detail}, 401, {"WWW-Authenticate": "Token"})

    async def database_unavailable(request, exc):
        # No free connection within READ_API_POOL_TIMEOUT is one too: a 503, never a hang.
        logger.warning("database unavailable", extra={"error": type(exc).__name__})
        return json_response(_UNAVAILABLE, 503, {"Retry-After": "5"})

    for error_class in UNAVAILABLE:
        app.add_exception_handler(error_class, database_unavailable)

    @app.exception_handler(Exception)
    async def server_error(request, exc):
        # As products.http.errors.server_error: JSON, and nothing about the failure (it is logged).
        return json_response({"detail": "Internal server error."}, 500)


def _with_api_trailing_slash(app):
    """Serve /api/products as /api/products/, as the Django API does (no redirect that would lose a body)."""

    async def application(scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            if path.startswith("/api/") and not path.endswith("/") and not path.startswith(_UNSLASHED):
                scope = {**scope, "path": f"{path}/", "raw_path": scope.get("raw_path", b"") + b"/"}
        await app(scope, receive, send)

    application.fastapi = app
    return application
