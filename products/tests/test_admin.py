"""The Django admin edits the write side through the command handlers."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.functional import empty

from cqrs_demo.bus import bus
from products.read.models import LocationView, ProductView
from products.read.rebuild import differences
from products.write import commands
from products.write.models import Category, EventRecord, Location, Product, Reservation, StockMovement

pytestmark = pytest.mark.django_db


# The ledger inline's management form, which every product form post carries.
INLINE = {"movements-TOTAL_FORMS": "0", "movements-INITIAL_FORMS": "0", "movements-MAX_NUM_FORMS": "0"}


@pytest.fixture
def admin_client(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    return browser


def test_adding_a_product_in_the_admin_goes_through_the_handlers(admin_client, make_category):
    slug = make_category(name="Tools")
    category_id = Category.objects.get(slug=slug).id
    response = admin_client.post(
        "/admin/products/product/add/",
        {
            "sku": "ADM-1",
            "name": "From the admin",
            "description": "",
            "category": category_id,
            "price": "4.50",
            "stock_delta": "7",
            "stock_reason": "first delivery",
            **INLINE,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    product = Product.objects.get(sku="ADM-1")
    assert ProductView.objects.get(id=product.id).quantity == 7
    assert list(StockMovement.objects.filter(product=product).order_by("id").values_list("delta", "reason")) == [
        (0, "initial stock"),
        (7, "first delivery"),
    ]
    assert differences() == []


def test_changing_a_product_in_the_admin_bumps_its_version_and_records_stock(admin_client, make_product):
    product_id = make_product(initial_stock=10)
    response = admin_client.post(
        f"/admin/products/product/{product_id}/change/",
        {
            "name": "Renamed",
            "description": "d",
            "category": "",
            "price": "2.00",
            "stock_delta": "-4",
            "stock_reason": "breakage",
            **INLINE,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    row = ProductView.objects.get(id=product_id)
    assert (row.name, row.quantity, row.version) == ("Renamed", 6, 3)
    assert differences() == []


def test_deleting_a_product_in_the_admin_archives_it(admin_client, make_product):
    product_id = make_product()
    response = admin_client.post(f"/admin/products/product/{product_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Product.objects.get(id=product_id).is_archived
    assert not ProductView.objects.filter(id=product_id).exists()


def test_the_ledger_cannot_be_edited_in_the_admin(admin_client, make_product):
    product_id = make_product(initial_stock=1)
    movement = StockMovement.objects.get(product_id=product_id)
    assert admin_client.get(f"/admin/products/stockmovement/{movement.id}/change/").status_code in (200, 403)
    response = admin_client.post(
        f"/admin/products/stockmovement/{movement.id}/change/", {"delta": "100", "quantity_after": "100"}
    )
    assert response.status_code == 403
    assert StockMovement.objects.get(id=movement.id).delta == 1


def test_locations_are_added_and_changed_in_the_admin_through_the_handlers(admin_client):
    response = admin_client.post("/admin/products/location/add/", {"code": "east", "name": "East warehouse"})
    assert response.status_code == 302, response.content[:2000]
    assert EventRecord.objects.latest("id").type == "LocationCreated"
    location = Location.objects.get(code="east")
    response = admin_client.post(f"/admin/products/location/{location.pk}/change/", {"name": "East depot"})
    assert response.status_code == 302, response.content[:2000]
    assert EventRecord.objects.latest("id").type == "LocationChanged"
    row = LocationView.objects.get(code="east")
    assert (row.name, row.is_active) == ("East depot", False)  # an unticked box: inactive
    assert admin_client.get("/admin/products/location/").status_code == 200
    assert admin_client.post(f"/admin/products/location/{location.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Location.objects.filter(code="east").exists()


def test_reservations_are_committed_and_released_from_the_admin(admin_client, make_product):
    product_id = make_product(initial_stock=5)
    placed = [
        bus.dispatch(commands.PlaceReservation(lines=(commands.ReservationLine(product_id=product_id, quantity=1),)))
        for _ in range(2)
    ]
    assert admin_client.get("/admin/products/reservation/").status_code == 200
    assert admin_client.get(f"/admin/products/reservation/{placed[0]['id']}/change/").status_code == 200
    changelist = "/admin/products/reservation/"
    admin_client.post(changelist, {"action": "commit", "_selected_action": [placed[0]["id"]]})
    admin_client.post(changelist, {"action": "release", "_selected_action": [placed[0]["id"], placed[1]["id"]]})
    statuses = [Reservation.objects.get(id=reservation["id"]).status for reservation in placed]
    assert statuses == ["committed", "released"]  # a committed one is not released
    assert StockMovement.objects.filter(product_id=product_id, reason="sale").count() == 1
    assert differences() == []


@pytest.fixture
def catalogue_clerk(django_user_model):
    """A staff user who may change products but not stock."""
    user = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="products", codename__in=["view_product", "change_product", "add_product"]
        )
    )
    browser = Client()
    browser.force_login(user)
    return browser


def test_without_change_stocklevel_the_admin_product_form_changes_no_stock(catalogue_clerk, make_product):
    product_id = make_product(initial_stock=10)
    url = f"/admin/products/product/{product_id}/change/"
    form = catalogue_clerk.get(url)
    assert form.status_code == 200
    assert b'name="stock_delta"' not in form.content  # the total shows, read-only
    response = catalogue_clerk.post(
        url,
        {"name": "Renamed", "description": "", "category": "", "price": "2.00", "stock_delta": "-7", **INLINE},
    )
    # A stock change posted anyway (a form opened before the permission was withdrawn) is refused whole.
    assert response.status_code == 200
    assert "products.change_stocklevel" in response.content.decode()
    assert ProductView.objects.get(id=product_id).quantity == 10
    assert Product.objects.get(id=product_id).name != "Renamed"
    assert StockMovement.objects.filter(product_id=product_id).count() == 1
    # Without a stock change the same user saves the details.
    response = catalogue_clerk.post(
        url, {"name": "Renamed", "description": "", "category": "", "price": "2.00", **INLINE}
    )
    assert response.status_code == 302, response.content[:2000]
    assert (Product.objects.get(id=product_id).name, ProductView.objects.get(id=product_id).quantity) == ("Renamed", 10)


def test_without_change_stocklevel_a_product_added_in_the_admin_has_no_stock(catalogue_clerk):
    assert b'name="stock_delta"' not in catalogue_clerk.get("/admin/products/product/add/").content
    fields = {"sku": "ADM-2", "name": "Clerk's", "description": "", "category": "", "price": "1.00", **INLINE}
    response = catalogue_clerk.post("/admin/products/product/add/", {**fields, "stock_delta": "5"})
    assert response.status_code == 200
    assert not Product.objects.filter(sku="ADM-2").exists()
    assert catalogue_clerk.post("/admin/products/product/add/", fields).status_code == 302
    product = Product.objects.get(sku="ADM-2")
    assert ProductView.objects.get(id=product.id).quantity == 0
    assert list(StockMovement.objects.filter(product=product).values_list("delta", flat=True)) == [0]


def test_the_admin_still_shows_a_message_after_a_change(admin_client, make_category):
    # The message storage is made on first use (cqrs_demo.middleware.LazyMessageMiddleware):
    # the admin's "changed successfully" must still reach the page the redirect leads to.
    category = Category.objects.get(slug=make_category(name="Tools"))
    response = admin_client.post(f"/admin/products/category/{category.pk}/change/", {"name": "Hand tools"}, follow=True)
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert len(messages) == 1
    assert "was changed successfully" in messages[0]
    # Shown once: the page after it has none.
    assert list(admin_client.get("/admin/products/category/").context["messages"]) == []


def test_an_api_read_builds_no_message_storage_and_sets_no_cookie(client):
    response = client.get("/api/categories/")
    assert response.status_code == 200
    assert "messages" not in response.cookies
    assert response.wsgi_request._messages._wrapped is empty
