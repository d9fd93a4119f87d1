"""Settings for the test suite: the base settings with throttling off by default and a local cache."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-" + "k3y-" * 16)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("THROTTLE_ANON_RATE", "off")
os.environ.setdefault("THROTTLE_USER_RATE", "off")
os.environ.setdefault("LOG_LEVEL", "WARNING")

if os.environ.get("CQRS_TEST_SPLIT") == "1" and not os.environ.get("READ_DATABASE_URL"):
    # Split mode under test: the read store is a second database on the same server.
    from urllib.parse import urlsplit, urlunsplit

    from cqrs_demo.embedded_db import database_url

    _url = urlsplit(os.environ.get("DATABASE_URL") or database_url())
    os.environ["READ_DATABASE_URL"] = urlunsplit(_url._replace(path=_url.path.rstrip("/") + "_read"))

from cqrs_demo.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# Tests that need Redis configure it themselves: the suite clears the cache, which must never
# flush a Redis that REDIS_URL names in the developer's environment.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
