"""CreateCategory and RenameCategory."""

import pytest

from cqrs_demo.bus import bus
from products.errors import CategoryNotFoundError, DuplicateCategoryError
from products.read.models import CategoryView, ProductView
from products.write import commands
from products.write.models import Category

pytestmark = pytest.mark.django_db


def test_create_category_stores_it_and_returns_its_representation():
    category = bus.dispatch(commands.CreateCategory(slug="hand-tools", name="Hand tools"))
    assert (category["slug"], category["name"]) == ("hand-tools", "Hand tools")
    assert Category.objects.get(slug="hand-tools").name == "Hand tools"
    assert CategoryView.objects.get(slug="hand-tools").name == "Hand tools"


def test_create_category_with_a_taken_slug_is_refused_and_keeps_the_first():
    bus.dispatch(commands.CreateCategory(slug="hand-tools", name="Hand tools"))
    with pytest.raises(DuplicateCategoryError) as raised:
        bus.dispatch(commands.CreateCategory(slug="hand-tools", name="Other"))
    assert raised.value.field == "slug"
    assert list(Category.objects.values_list("name", flat=True)) == ["Hand tools"]
    assert list(CategoryView.objects.values_list("name", flat=True)) == ["Hand tools"]


def test_rename_category_changes_its_name_and_every_product_read_row(make_category, make_product):
    slug = make_category(name="Tools")
    first, second = make_product(category=slug), make_product(category=slug)
    other = make_product()
    assert bus.dispatch(commands.RenameCategory(slug=slug, name="Hand tools"))["name"] == "Hand tools"
    assert Category.objects.get(slug=slug).name == "Hand tools"
    assert CategoryView.objects.get(slug=slug).name == "Hand tools"
    names = dict(ProductView.objects.values_list("id", "category_name"))
    assert names == {first: "Hand tools", second: "Hand tools", other: None}


def test_rename_unknown_category_is_refused():
    with pytest.raises(CategoryNotFoundError):
        bus.dispatch(commands.RenameCategory(slug="nope", name="Anything"))
    assert not CategoryView.objects.exists()
