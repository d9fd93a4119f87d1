"""Gunicorn settings, read from the environment.

PORT                          port to listen on, all interfaces (9000)
WEB_CONCURRENCY               worker processes (2 x CPU cores + 1, at most 12)
GUNICORN_THREADS              threads per worker; above 1 selects the gthread worker (1)
GUNICORN_TIMEOUT              seconds a worker may be silent before it is killed and replaced (30)
GUNICORN_GRACEFUL_TIMEOUT     seconds workers get to finish in-flight requests after SIGTERM (30)
GUNICORN_KEEPALIVE            seconds an idle keep-alive connection is held open (5)
GUNICORN_MAX_REQUESTS         requests after which a worker is recycled; 0 never recycles (1000)
GUNICORN_MAX_REQUESTS_JITTER  random extra requests, so workers do not all recycle at once (100)
GUNICORN_ACCESS_LOG           true: one JSON line per request on stdout; false: none (true)
LOG_LEVEL                     level of gunicorn's own log on stderr, shared with Django (INFO)
FORWARDED_ALLOW_IPS           proxies whose X-Forwarded-* headers gunicorn trusts (127.0.0.1,::1);
                              read by gunicorn itself
"""

import json
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger, SafeAtoms


def _int(name, default):
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _bool(name, default):
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}.")


class JsonSafeAtoms(SafeAtoms):
    """Escape every string atom for a JSON string; gunicorn itself escapes only quotes."""

    def __init__(self, atoms):
        dict.__init__(self)
        for key, value in atoms.items():
            if isinstance(value, str):
                value = json.dumps(value)[1:-1]
            elif value is None:
                value = "null"
            self[key] = value


class JsonAccessLogger(Logger):
    """Log requests as JSON lines with ISO 8601 UTC timestamps, like the Django log."""

    atoms_wrapper_class = JsonSafeAtoms

    def now(self):
        """Return the current UTC time in ISO 8601."""
        return datetime.now(UTC).isoformat(timespec="milliseconds")


bind = f"0.0.0.0:{_int('PORT', 9000)}"
# The CPUs this process may run on (a container's cpuset), not every core of the host.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
# The usual 2n+1, capped: each worker holds its own database connection (CONN_MAX_AGE).
workers = _int("WEB_CONCURRENCY", min(2 * _cores + 1, 12))
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling bounds the damage of a slow leak in any dependency.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# Refuse oversized request lines and header sets before Django sees them.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Container overlay filesystems can stall the worker heartbeat file; tmpfs does not.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# The runtime control socket (gunicornc) is unused, and its default path under $HOME
# would be shared by every gunicorn of one user and is unwritable for the image's user.
control_socket_disable = True

logger_class = JsonAccessLogger
accesslog = "-" if _bool("GUNICORN_ACCESS_LOG", True) else None
# Numbers stay unquoted; JsonSafeAtoms makes every quoted atom a valid JSON string.
access_log_format = (
    '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", "remote_addr": "%(h)s", '
    '"method": "%(m)s", "path": "%(U)s", "query": "%(q)s", "status": %(s)s, "bytes": %(B)s, '
    '"duration_ms": %(M)s, "referer": "%(f)s", "user_agent": "%(a)s"}'
)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
