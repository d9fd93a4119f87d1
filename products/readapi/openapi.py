"""The read API's OpenAPI operations: the Django API's GET operations, declared (OpenAPI 3.1).

The handlers read their parameters themselves (``params``), so FastAPI infers none: each
operation's parameters, its responses and their schemas are stated here, and a test compares
them with the Django API's schema (docs/openapi.yaml): the same paths, parameters and codes.
"""

from products.patterns import ETAG_DESCRIPTION, ETAG_PATTERN, LOCATION_CODE_PATTERN, PRICE_PATTERN, SLUG_PATTERN
from products.read.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from products.read.queries.products import PRODUCT_ORDERINGS
from products.read.queries.reservations import STATUS_FILTERS

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}


def nullable(schema):
    return {**schema, "type": [schema["type"], "null"]}


def obj(properties, description=None):
    schema = {"type": "object", "properties": properties, "required": sorted(properties)}
    return {**schema, "description": description} if description else schema


def page_of(item):
    return obj(
        {
            "next": nullable({"type": "string", "format": "uri"}),
            "previous": nullable(STRING),
            "results": {"type": "array", "items": item},
        }
    )


PRODUCT = obj(
    {
        "id": UUID,
        "sku": STRING,
        "name": STRING,
        "description": STRING,
        "category": nullable({"type": "string", "pattern": SLUG_PATTERN}),
        "category_name": nullable(STRING),
        "price": {"type": "string", "format": "decimal"},
        "quantity": {**INTEGER, "description": "On hand: the sum over the product's locations."},
        "reserved": {**INTEGER, "description": "Held by active reservations (an expired one holds nothing)."},
        "available": {**INTEGER, "description": "quantity - reserved: what can still be sold or reserved."},
        "in_stock": {**BOOLEAN, "description": "available > 0"},
        "reorder_point": INTEGER,
        "version": INTEGER,
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
    }
)
STOCK_LEVEL = obj({"location": STRING, "quantity": INTEGER, "reserved": INTEGER, "available": INTEGER})
STOCK = obj(
    {
        "sku": STRING,
        "quantity": INTEGER,
        "reserved": INTEGER,
        "available": INTEGER,
        "in_stock": BOOLEAN,
        "version": INTEGER,
        "locations": {"type": "array", "items": STOCK_LEVEL},
    }
)
MOVEMENT = obj(
    {
        "location": STRING,
        "delta": INTEGER,
        "quantity_after": INTEGER,
        "reason": STRING,
        "reference": nullable(STRING),
        "created_at": DATE_TIME,
    }
)
EVENT = obj({"id": INTEGER, "type": STRING, "occurred_at": DATE_TIME, "data": {"type": "object"}})
CATEGORY = obj({"slug": STRING, "name": STRING, "created_at": DATE_TIME, "updated_at": DATE_TIME})
LOCATION = obj({"code": STRING, "name": STRING, "is_active": BOOLEAN, "created_at": DATE_TIME, "updated_at": DATE_TIME})
RESERVATION = obj(
    {
        "id": UUID,
        "status": {"type": "string", "enum": list(STATUS_FILTERS)},
        "reference": nullable(STRING),
        "expires_at": DATE_TIME,
        "created_at": DATE_TIME,
        "lines": {
            "type": "array",
            "items": obj({"product": UUID, "sku": STRING, "location": STRING, "quantity": INTEGER}),
        },
    }
)
ERROR = {"type": "object", "properties": {"detail": STRING, "code": STRING}, "required": ["detail"]}
VALIDATION_ERROR = {
    "type": "object",
    "description": "A refused request (400): messages by parameter name, as the Django API reports them.",
    "additionalProperties": {"type": "array", "items": STRING},
}


def _json(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name, schema, description=None):
    parameter = {"in": "query", "name": name, "required": False, "schema": schema}
    return {**parameter, "description": description} if description else parameter


def _path(name, pattern):
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string", "pattern": pattern}}


PAGE_PARAMETERS = [
    _query("cursor", {"type": "string", "minLength": 1}, "Opaque; take it from next or previous."),
    _query(
        "page_size",
        {"type": "integer", "minimum": 1, "default": DEFAULT_PAGE_SIZE},
        f"1 or more; values above {MAX_PAGE_SIZE} mean {MAX_PAGE_SIZE}.",
    ),
]
PRODUCT_ID = _path("id", UUID_PATTERN)
INVALID = _json("Refused input: the messages, by parameter.", VALIDATION_ERROR)


# As the Django API declares it on a product's detail and stock (products.http.views.common.ETAG).
ETAG = {
    "ETag": {
        "schema": {"type": "string", "pattern": ETAG_PATTERN},
        "description": ETAG_DESCRIPTION,
        "required": True,
    }
}


def operation(operation_id, summary, parameters, ok, *, invalid=False, not_found=None, etag=False):
    """Return the keyword arguments of a route: its OpenAPI operation (400 when ``invalid``, 404 when ``not_found``,
    the ``ETag`` header of its 200 when ``etag``)."""
    responses = {200: {**_json("OK", ok), "headers": ETAG} if etag else _json("OK", ok)}
    if invalid:
        responses[400] = INVALID
    if not_found:
        responses[404] = _json(not_found, ERROR)
    return {
        "operation_id": operation_id,
        "summary": summary,
        "responses": responses,
        "openapi_extra": {"parameters": parameters, "security": [{"tokenAuth": []}, {}]},
    }


PRODUCTS_LIST = operation(
    "products_list",
    "List products",
    [
        *PAGE_PARAMETERS,
        _query(
            "search",
            {"type": "string", "maxLength": 200},
            "Every word must start a word of the SKU, name or description.",
        ),
        _query(
            "category", {"type": "string", "minLength": 1, "maxLength": 100, "pattern": SLUG_PATTERN}, "Category slug."
        ),
        _query("in_stock", {"type": ["boolean", "null"]}, "true: available > 0; false: the others."),
        _query(
            "location",
            {"type": "string", "minLength": 1, "maxLength": 32, "pattern": LOCATION_CODE_PATTERN},
            "Only products with stock available (> 0) at this location.",
        ),
        _query(
            "low_stock", {"type": ["boolean", "null"]}, "true: available at or below reorder_point; false: the others."
        ),
        _query("min_price", {"type": "string", "pattern": PRICE_PATTERN}),
        _query("max_price", {"type": "string", "pattern": PRICE_PATTERN}),
        _query(
            "ordering",
            {"type": "string", "enum": [n for f in PRODUCT_ORDERINGS for n in (f, f"-{f}")], "default": "sku"},
        ),
    ],
    page_of(PRODUCT),
    invalid=True,
)
PRODUCTS_RETRIEVE = operation(
    "products_retrieve", "Get a product", [PRODUCT_ID], PRODUCT, not_found="No active product has this id.", etag=True
)
PRODUCTS_STOCK = operation(
    "products_stock_retrieve",
    "Get a product's stock",
    [PRODUCT_ID],
    STOCK,
    not_found="No active product has this id.",
    etag=True,
)
PRODUCTS_MOVEMENTS = operation(
    "products_stock_movements_list",
    "List a product's stock movements",
    [PRODUCT_ID, *PAGE_PARAMETERS],
    page_of(MOVEMENT),
    invalid=True,
    not_found="No active product has this id.",
)
PRODUCTS_EVENTS = operation(
    "products_events_list",
    "List a product's events",
    [PRODUCT_ID, *PAGE_PARAMETERS],
    page_of(EVENT),
    invalid=True,
    not_found="No product has this id.",
)
CATEGORIES_LIST = operation("categories_list", "List categories", PAGE_PARAMETERS, page_of(CATEGORY), invalid=True)
CATEGORIES_RETRIEVE = operation(
    "categories_retrieve", "Get a category", [_path("slug", SLUG_PATTERN)], CATEGORY, not_found="Not found."
)
LOCATIONS_LIST = operation("locations_list", "List locations", PAGE_PARAMETERS, page_of(LOCATION), invalid=True)
LOCATIONS_RETRIEVE = operation(
    "locations_retrieve", "Get a location", [_path("code", "^[-a-z0-9_]+$")], LOCATION, not_found="Not found."
)
RESERVATIONS_LIST = operation(
    "reservations_list",
    "List reservations",
    [
        *PAGE_PARAMETERS,
        _query("status", {"type": "string", "enum": list(STATUS_FILTERS)}),
        _query("reference", {"type": "string", "minLength": 1, "maxLength": 200}),
    ],
    page_of(RESERVATION),
    invalid=True,
)
RESERVATIONS_RETRIEVE = operation(
    "reservations_retrieve",
    "Get a reservation",
    [_path("id", UUID_PATTERN)],
    RESERVATION,
    not_found="No reservation has this id.",
)
