"""Commands of categories: create one, rename one."""

from dataclasses import dataclass

from django.db import IntegrityError
from django.utils import timezone

from cqrs_demo.bus import Command
from products import events
from products.errors import CategoryNotFoundError, DuplicateCategoryError
from products.write import representation
from products.write.commands.common import lock_catalogue
from products.write.event_log import publish
from products.write.models import Category


@dataclass(frozen=True)
class CreateCategory(Command):
    slug: str
    name: str


@dataclass(frozen=True)
class RenameCategory(Command):
    slug: str
    name: str


def create_category(command):
    """Create a category; return its representation."""
    try:
        Category.objects.create(slug=command.slug, name=command.name)
    except IntegrityError:
        raise DuplicateCategoryError(f"A category with slug {command.slug!r} already exists.") from None
    publish(events.CategoryCreated(slug=command.slug))
    return representation.category(command.slug)


def rename_category(command):
    """Rename a category (every product in it shows the new name); return its representation.

    A rename to the name it has changes nothing: no write, no event.
    """
    lock_catalogue(exclusive=True)  # no product write interleaves with the rename
    category = Category.objects.filter(slug=command.slug)
    if category.exclude(name=command.name).update(name=command.name, updated_at=timezone.now()):
        publish(events.CategoryRenamed(slug=command.slug, name=command.name))
    elif not category.exists():
        raise CategoryNotFoundError("Category not found.")
    return representation.category(command.slug)


HANDLERS = {
    CreateCategory: create_category,
    RenameCategory: rename_category,
}
