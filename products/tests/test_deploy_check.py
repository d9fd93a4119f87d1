"""The production configuration that .env.example documents passes Django's deployment checks,
and settings refuse to load with DEBUG off and no strong SECRET_KEY."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from products.tests.support import database_url

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
# The production block starts at this banner line and runs to the end of the file.
PRODUCTION_BANNER = re.compile(r"^# Production:", re.MULTILINE)
# A commented-out assignment; prose comments never start with an upper-case NAME=.
ASSIGNMENT = re.compile(r"^#\s?([A-Z][A-Z0-9_]*)=(.*)$")


def production_block():
    """Return the KEY=value lines of .env.example's production block, in order."""
    text = ENV_EXAMPLE.read_text()
    banners = list(PRODUCTION_BANNER.finditer(text))
    assert len(banners) == 1, "expected one '# Production:' banner in .env.example"
    values = {}
    for line in text[banners[0].start() :].splitlines():
        match = ASSIGNMENT.match(line.strip())
        if match:
            values[match[1]] = match[2].strip()
    return values


def _clean_environment(**variables):
    """Return an environment without the test settings' variables, plus ``variables``."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        **variables,
    }


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_env_example_documents_a_hardened_production_block():
    values = production_block()
    assert values["DEBUG"] == "false"
    # Left empty on purpose: a forgotten key must stop the start-up rather than run with a known one.
    assert values["SECRET_KEY"] == ""
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        assert values[name] == "true", name
    assert int(values["SECURE_HSTS_SECONDS"]) >= 31536000
    assert values["ALLOWED_HOSTS"]
    assert "DATABASE_URL" in values


@pytest.mark.django_db
def test_production_configuration_from_env_example_passes_check_deploy():
    values = production_block()
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    values["DATABASE_URL"] = database_url(connection.settings_dict)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_clean_environment(**values))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    "secret_key",
    [
        None,
        "",
        "too-short-0123456789",
        "django-insecure-dev-only-key-change-me",
        "a" * 64,
    ],
    ids=["missing", "empty", "short", "published-dev-key", "one-character-repeated"],
)
def test_settings_refuse_to_load_with_debug_off_and_a_weak_secret_key(secret_key):
    values = {"DEBUG": "false", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/never-connected"}
    if secret_key is not None:
        values["SECRET_KEY"] = secret_key
    result = _manage("check", env=_clean_environment(**values))
    assert result.returncode != 0, result.stdout + result.stderr
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
