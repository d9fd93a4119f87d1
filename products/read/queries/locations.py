"""Queries of locations: one location, a page of them."""

from dataclasses import dataclass

from cqrs_demo.bus import Query
from products.errors import LocationNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE
from products.read.queries.common import one_by_key, page_by_key
from products.read.tables import LOCATIONS


@dataclass(frozen=True)
class GetLocation(Query):
    code: str


@dataclass(frozen=True)
class ListLocations(Query):
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_location(query):
    """Return the statement of a location."""
    return one_by_key(LOCATIONS, query.code, LocationNotFoundError, "Location not found.")


def list_locations(query):
    """Return the statement of one page of locations ordered by code, inactive ones included."""
    return page_by_key(LOCATIONS, query)


STATEMENTS = {
    GetLocation: get_location,
    ListLocations: list_locations,
}
