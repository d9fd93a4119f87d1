"""CreateLocation and ChangeLocation."""

import pytest

from cqrs_demo.bus import bus
from products.errors import DuplicateLocationError, LocationNotFoundError
from products.read.models import LocationView
from products.write import commands
from products.write.models import EventRecord, Location

pytestmark = pytest.mark.django_db


def _read_row(code):
    return LocationView.objects.filter(code=code).values("code", "name", "is_active").first()


def test_main_exists_from_the_migration_and_is_active():
    assert Location.objects.filter(code="main").values("name", "is_active").get() == {
        "name": "Main warehouse",
        "is_active": True,
    }
    assert _read_row("main") == {"code": "main", "name": "Main warehouse", "is_active": True}
    created = EventRecord.objects.get(type="LocationCreated", payload__code="main")
    assert created.payload["location"]["name"] == "Main warehouse"


def test_create_location_stores_it_projects_it_and_returns_its_representation():
    location = bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    assert set(location) == {"code", "name", "is_active", "created_at", "updated_at"}
    assert (location["code"], location["name"], location["is_active"]) == ("east", "East warehouse", True)
    assert Location.objects.get(code="east").name == "East warehouse"
    assert _read_row("east") == {"code": "east", "name": "East warehouse", "is_active": True}


def test_create_location_appends_its_event_with_its_state():
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    record = EventRecord.objects.latest("id")
    assert (record.type, record.product_id) == ("LocationCreated", None)
    assert record.payload["code"] == "east"
    assert record.payload["location"]["name"] == "East warehouse"
    assert record.payload["location"]["created_at"].endswith("Z")


def test_create_location_with_a_taken_code_is_refused_and_keeps_the_first():
    with pytest.raises(DuplicateLocationError) as raised:
        bus.dispatch(commands.CreateLocation(code="main", name="Other"))
    assert raised.value.field == "code"
    assert Location.objects.get(code="main").name == "Main warehouse"
    assert _read_row("main")["name"] == "Main warehouse"


def test_change_location_renames_it_and_makes_it_inactive():
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    renamed = bus.dispatch(commands.ChangeLocation(code="east", name="East depot"))
    assert (renamed["name"], renamed["is_active"]) == ("East depot", True)
    closed = bus.dispatch(commands.ChangeLocation(code="east", is_active=False))
    assert (closed["name"], closed["is_active"]) == ("East depot", False)
    assert _read_row("east") == {"code": "east", "name": "East depot", "is_active": False}
    record = EventRecord.objects.latest("id")
    assert (record.type, record.payload["location"]["is_active"]) == ("LocationChanged", False)


def test_a_change_of_nothing_writes_nothing():
    before = EventRecord.objects.count()
    assert bus.dispatch(commands.ChangeLocation(code="main"))["name"] == "Main warehouse"
    assert EventRecord.objects.count() == before


@pytest.mark.parametrize("change", [{"name": "Anything"}, {}])
def test_change_unknown_location_is_refused(change):
    before = EventRecord.objects.count()
    with pytest.raises(LocationNotFoundError):
        bus.dispatch(commands.ChangeLocation(code="nope", **change))
    assert EventRecord.objects.count() == before
    assert not LocationView.objects.filter(code="nope").exists()
