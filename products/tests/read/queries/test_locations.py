"""GetLocation and ListLocations, one SQL query each."""

import pytest

from cqrs_demo.bus import bus
from products.errors import LocationNotFoundError
from products.read import queries
from products.write import commands

pytestmark = pytest.mark.django_db


def test_get_location_returns_code_name_is_active_and_timestamps(django_assert_num_queries):
    with django_assert_num_queries(1):
        location = bus.ask(queries.GetLocation(code="main"))
    assert set(location) == {"code", "name", "is_active", "created_at", "updated_at"}
    assert (location["code"], location["name"], location["is_active"]) == ("main", "Main warehouse", True)


def test_get_location_shows_a_change():
    bus.dispatch(commands.ChangeLocation(code="main", name="Head office", is_active=False))
    location = bus.ask(queries.GetLocation(code="main"))
    assert (location["name"], location["is_active"]) == ("Head office", False)


def test_get_unknown_location_is_not_found():
    with pytest.raises(LocationNotFoundError):
        bus.ask(queries.GetLocation(code="nope"))


def test_locations_are_listed_by_code_in_pages_of_one_query(django_assert_num_queries):
    codes = sorted(["main", *(f"l{number:02d}" for number in range(11))])
    for code in reversed(codes):
        if code != "main":
            bus.dispatch(commands.CreateLocation(code=code, name=code.upper()))
    bus.dispatch(commands.ChangeLocation(code="l03", is_active=False))  # inactive ones are listed too
    pages, cursor = [], None
    while True:
        with django_assert_num_queries(1):
            page = bus.ask(queries.ListLocations(page_size=5, cursor=cursor))
        pages.append([row["code"] for row in page.results])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == [codes[0:5], codes[5:10], codes[10:]]
    back = bus.ask(queries.ListLocations(page_size=5, cursor=page.previous_cursor))
    assert [row["code"] for row in back.results] == codes[5:10]
