"""How an event type is declared, the shapes its payload carries, and the JSON Schema both imply.

Each event type is declared once, with ``event``: a frozen dataclass whose name is the
event's, whose fields (typed) are its own, with the ``schema_version`` of its payload, the
state it ``carries`` besides its fields (named here as typed shapes, ``TypedDict``s), so the
log alone can rebuild a read store, and the field its messages are keyed by; a field's
``Annotated`` text is its description. Everything else follows from that declaration or is
tested against it: ``payload_schema`` derives a payload's JSON Schema, the relay's key,
headers and envelope come from it (``products.write.event_log.envelope_of``), and
``products.events.asyncapi`` publishes it as ``docs/asyncapi.yaml``; the producers (the
event log in Python, the statements in SQL) and consumers (the projectors, the worker) are
checked against it by the tests, which validate every event they produce.
"""

import dataclasses
import datetime
import types
import typing
from decimal import Decimal
from typing import Annotated, Literal, TypedDict
from uuid import UUID

# Where the shapes' schemas are, in the AsyncAPI document (``products.events.asyncapi``).
SHAPES_AT = "#/components/schemas/"

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# UTC with all six digits of microseconds and "Z", as both the Python and the SQL producers write them.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


def event(*, version, carries=None, key="product_id"):
    """Declare an event type: a frozen dataclass, its payload's ``version``, the state it ``carries``.

    ``carries`` maps each payload field beyond the dataclass's own to its type; a new field
    in a payload is a new entry here, a renamed or removed one a new ``version``. ``key``
    names the field that identifies the event's aggregate (the product's id unless the event
    has no product): a broker keeps the events of one key in order (a Kafka record's key).
    """

    def declare(cls):
        cls = dataclasses.dataclass(frozen=True)(cls)
        if key not in {field.name for field in dataclasses.fields(cls)}:
            raise TypeError(f"{cls.__name__} has no field {key!r} to key its messages by.")
        cls.schema_version = version
        cls.carries = dict(carries or {})
        cls.key_field = key
        return cls

    return declare


ReservationStatus = Literal["active", "committed", "released", "expired"]


class Product(TypedDict):
    """A product as the API shows it, less what changes with the clock (``reserved``, ``available``, ``in_stock``)."""

    id: UUID
    sku: str
    name: str
    description: str
    category: Annotated[str | None, "Its category's slug."]
    category_name: str | None
    price: Decimal
    quantity: Annotated[int, "Over all its locations."]
    reorder_point: int
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Movement(TypedDict):
    """A row of the stock ledger: one change of a product's stock at a location."""

    id: int
    product_id: UUID
    location: Annotated[str, "The location's code."]
    delta: int
    quantity_after: Annotated[int, "At that location."]
    reason: str
    reference: Annotated[str | None, "A reservation's, a batch's or a transfer's, if any."]
    created_at: datetime.datetime


class Category(TypedDict):
    """A category as the API shows it."""

    slug: str
    name: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Location(TypedDict):
    """A location (a place stock is kept) as the API shows it."""

    code: str
    name: str
    is_active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ReservationLine(TypedDict):
    """A line of a reservation as the API shows it."""

    product: UUID
    sku: str
    location: str
    quantity: int


class Reservation(TypedDict):
    """A reservation as the API showed it when the event was written."""

    id: UUID
    status: ReservationStatus
    reference: str | None
    expires_at: datetime.datetime
    lines: list[ReservationLine]
    created_at: datetime.datetime


class Hold(TypedDict):
    """A line that holds stock: what a product has reserved at a location, until ``expires_at``."""

    key: Annotated[str, "reservation id:product id:location code"]
    reservation_id: UUID
    product_id: UUID
    location: str
    quantity: int
    expires_at: datetime.datetime


class TransferLine(TypedDict):
    """A line of a transfer: how much of a product moved."""

    product: UUID
    quantity: int


_SCALARS = {
    str: {"type": "string"},
    int: {"type": "integer"},
    bool: {"type": "boolean"},
    UUID: {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
    Decimal: {"type": "string", "pattern": DECIMAL_PATTERN},  # "12.50": exact, as the API shows prices
    datetime.datetime: {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN},
}


def is_shape(annotation):
    return typing.is_typeddict(annotation)


def schema_of(annotation):
    """Return the JSON Schema of a field's type; a shape is a reference to its own schema."""
    if typing.get_origin(annotation) is Annotated:
        schema, [description] = schema_of(annotation.__origin__), annotation.__metadata__
        if "$ref" in schema:
            raise TypeError("A reference takes no description: describe the shape in its docstring.")
        return {**schema, "description": description}
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if is_shape(annotation):
        return {"$ref": f"{SHAPES_AT}{annotation.__name__}"}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin in (list, tuple):  # a tuple is tuple[X, ...]: any number of X
        return {"type": "array", "items": schema_of(args[0])}
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        [other] = [arg for arg in args if arg is not type(None)]
        schema = schema_of(other)
        if "type" not in schema:
            return {"oneOf": [schema, {"type": "null"}]}
        return {**schema, "type": [schema["type"], "null"]}
    raise TypeError(f"No JSON Schema for {annotation!r}: declare it with the types of products.events.schema.")


def object_schema(fields, description=None):
    """Return the schema of an object with exactly ``fields`` ({name: type}), all required."""
    schema = {"type": "object"}
    if description:
        schema["description"] = description
    schema.update(
        properties={name: schema_of(annotation) for name, annotation in fields.items()},
        required=list(fields),
        additionalProperties=False,
    )
    return schema


def fields_of(event_type):
    """Return every field of an event type's payload, {name: type}: its own, then the state it carries."""
    hints = typing.get_type_hints(event_type, include_extras=True)
    own = {field.name: hints[field.name] for field in dataclasses.fields(event_type)}
    return {**own, **event_type.carries}


def payload_schema(event_type):
    """Return the JSON Schema of the payload (``data``) of ``event_type``."""
    return object_schema(fields_of(event_type))


def shapes_of(event_types):
    """Return every shape the payloads of ``event_types`` carry, nested ones included, in a stable order."""
    found = {}

    def visit(annotation):
        if is_shape(annotation):
            if annotation.__name__ not in found:
                found[annotation.__name__] = annotation
                for nested in typing.get_type_hints(annotation, include_extras=True).values():
                    visit(nested)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    for event_type in event_types:
        for annotation in fields_of(event_type).values():
            visit(annotation)
    return found


def shape_schema(shape):
    """Return the JSON Schema of a shape (a ``TypedDict``): every key required, no other."""
    return object_schema(typing.get_type_hints(shape, include_extras=True), description=_docstring(shape))


def _docstring(cls):
    return " ".join((cls.__doc__ or "").split()).replace("``", "`") or None


def envelope_fields(event_type):
    """Return the fields of the message body every event travels in, {name: JSON Schema}.

    ``product_id`` is the event's own ``product_id``, or null when it has none.
    """
    has_product = "product_id" in {field.name for field in dataclasses.fields(event_type)}
    return {
        "schema_version": {"type": "integer", "const": event_type.schema_version},
        "event_id": {"type": "integer", "description": "The event's id in the log, unique: drop duplicates by it."},
        "type": {"type": "string", "const": event_type.__name__},
        "product_id": schema_of(UUID) if has_product else {"type": "null"},
        "occurred_at": schema_of(datetime.datetime),
        "data": payload_schema(event_type),
    }


def envelope_schema(event_type):
    """Return the JSON Schema of the message body an event of ``event_type`` travels in."""
    fields = envelope_fields(event_type)
    return {"type": "object", "properties": fields, "required": list(fields), "additionalProperties": False}


def headers_schema(event_type):
    """Return the JSON Schema of the message headers of ``event_type``: the body's id, type and version."""
    fields = {
        "id": {"type": "integer", "description": "The event's id, as the body's event_id (and AMQP message_id)."},
        "type": {"type": "string", "const": event_type.__name__},
        "schema_version": {"type": "integer", "const": event_type.schema_version},
    }
    return {"type": "object", "properties": fields, "required": list(fields), "additionalProperties": False}


def headers(event_type, event_id):
    """Return the message headers of an event of ``event_type`` (see ``headers_schema``)."""
    return {"id": event_id, "type": event_type.__name__, "schema_version": event_type.schema_version}


def key_schema(event_type):
    """Return the JSON Schema of the message key of ``event_type``: its aggregate's key, as text."""
    hints = typing.get_type_hints(event_type)
    return {
        "type": "string",
        **({"format": "uuid"} if hints[event_type.key_field] is UUID else {}),
        "description": f"The record key: the event's `{event_type.key_field}`, so events of one key stay in order.",
    }


def message_key(event_type, payload):
    """Return the message key of an event of ``event_type`` whose payload is ``payload`` (see ``key_schema``)."""
    return str(payload[event_type.key_field])


def description_of(event_type):
    return _docstring(event_type)
