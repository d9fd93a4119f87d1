"""Read typed settings from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=""):
    """Return the variable as a string, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name, default=False):
    """Return the variable as a boolean; unknown spellings are a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name, default):
    """Return the variable as an integer, or ``default`` when it is unset."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from None


def env_list(name, default=()):
    """Return the variable split on commas, blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name, default):
    """Return a DRF throttle rate such as ``600/min``; ``off`` disables the throttle."""
    raw = os.environ.get(name, default).strip()
    return None if raw.lower() in {"off", "none", ""} else raw
