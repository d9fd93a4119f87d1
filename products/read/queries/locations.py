"""Queries of locations: one location, a page of them."""

from dataclasses import dataclass

from cqrs_demo.bus import Query
from cqrs_demo.routers import read_query_alias
from products.errors import LocationNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_page
from products.read.tables import LOCATIONS
from products.sql import fetch_dicts

_SELECT = LOCATIONS.api_select()


@dataclass(frozen=True)
class GetLocation(Query):
    code: str


@dataclass(frozen=True)
class ListLocations(Query):
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_location(query):
    """Return a location."""
    rows = fetch_dicts(f"{_SELECT} WHERE code = %s", [query.code], read_query_alias())
    if not rows:
        raise LocationNotFoundError("Location not found.")
    return rows[0]


def list_locations(query):
    """Return one page of locations ordered by code, inactive ones included."""
    return keyset_page(
        _SELECT,
        [],
        [],
        table=LOCATIONS.name,
        ordering="code",
        key="code",
        id_key="code",
        id_type="text",
        column_type="text",
        descending=False,
        page_size=query.page_size,
        cursor=query.cursor,
    )


HANDLERS = {
    GetLocation: get_location,
    ListLocations: list_locations,
}
