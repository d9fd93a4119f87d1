"""Settings for the test suite: the base settings with throttling off by default."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-" + "k3y-" * 16)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("THROTTLE_ANON_RATE", "off")
os.environ.setdefault("THROTTLE_USER_RATE", "off")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from cqrs_demo.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
