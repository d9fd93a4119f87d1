"""The service's settings with bench/django_view.py's URLconf (the issue's bare-SQL Django view floor)."""

from cqrs_demo.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.django_view"
