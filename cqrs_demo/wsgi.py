"""WSGI entry point: ``cqrs_demo.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_demo.settings.base")

application = get_wsgi_application()

# Read the migration files now, at worker start, so no readiness probe pays for it.
from cqrs_demo.health import expected_migrations  # noqa: E402

expected_migrations()
