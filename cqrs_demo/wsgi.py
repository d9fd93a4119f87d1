"""WSGI entry point: ``cqrs_demo.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cqrs_demo.settings.base")

application = get_wsgi_application()
