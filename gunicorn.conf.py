"""Gunicorn settings, read from the environment.

PORT                          port to listen on, all interfaces (9000)
WEB_CONCURRENCY               worker processes (2 x CPU cores + 1, at most 12)
GUNICORN_THREADS              threads per worker; above 1 selects the gthread worker (1)
GUNICORN_TIMEOUT              seconds a worker may be silent before it is killed and replaced (30)
GUNICORN_GRACEFUL_TIMEOUT     seconds workers get to finish in-flight requests after SIGTERM (30)
GUNICORN_KEEPALIVE            seconds an idle keep-alive connection is held open (5)
GUNICORN_MAX_REQUESTS         requests after which a worker is recycled; 0 never recycles (1000)
GUNICORN_MAX_REQUESTS_JITTER  random extra requests, so workers do not all recycle at once (100)
GUNICORN_ACCESS_LOG           true: gunicorn logs each request too, besides the app's own request
                              line; false: only the app's line (false)
LOG_LEVEL                     level of gunicorn's own log, shared with Django (INFO)
FORWARDED_ALLOW_IPS           proxies whose X-Forwarded-* headers gunicorn trusts (127.0.0.1,::1);
                              read by gunicorn itself

Every line gunicorn logs is a JSON line on stderr in the app's format (cqrs_demo/logs.py): the
same fields and the same timestamp format as Django's lines.
"""

import os
import sys

from gunicorn.glogging import Logger

# cqrs_demo/logs.py sits beside this file; gunicorn reads this file before it imports the app.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cqrs_demo import logs


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


class JsonLogger(Logger):
    """Gunicorn's logger, with the access line (when enabled) as a JSON record of named fields."""

    def access(self, resp, req, environ, request_time):
        """Log one request; no header but the user agent and referer, so never a credential."""
        if not self.cfg.accesslog:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        self.access_log.info(
            "access",
            extra={
                "remote_addr": environ.get("REMOTE_ADDR"),
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "referer": environ.get("HTTP_REFERER"),
            },
        )


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

logger_class = JsonLogger
# The app logs one line per request (cqrs_demo/middleware.py); gunicorn's would be a second.
accesslog = "-" if _bool("GUNICORN_ACCESS_LOG", False) else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
# Replaces gunicorn's plain-text handlers: its error log (and access log) in the app's format.
logconfig_dict = logs.config(
    loglevel.upper(),
    {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
)
