"""Fixtures for tests that run management commands as separate processes against the test databases."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from products.tests.support import database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def command_env():
    """Return the environment for a `manage.py` subprocess that sees the test databases."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": "split-test-" + "s3cr3t-" * 8,
        "DATABASE_URL": database_url(connections["default"].settings_dict),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CQRS_TEST_SPLIT", None)
    if "read" in connections.settings:
        env["READ_DATABASE_URL"] = database_url(connections["read"].settings_dict)
    else:
        env.pop("READ_DATABASE_URL", None)
    return env


@pytest.fixture
def manage(command_env):
    """Start `python manage.py ARGS` in the background; stop every one started at teardown."""
    started = []

    def start(*args, env=None):
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**command_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
