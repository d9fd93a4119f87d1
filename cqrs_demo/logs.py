"""The one log format of the service: JSON lines with an ISO 8601 UTC timestamp.

Django's ``LOGGING`` (settings) and gunicorn's ``logconfig_dict`` (gunicorn.conf.py) both
format through ``JsonFormatter``, so every line on stderr has the same shape:
``{"time": "2026-01-31T12:00:00.123Z", "level": "INFO", "logger": "...", "message": "...", ...}``.
"""

from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class JsonFormatter(_JsonFormatter):
    """python-json-logger with the service's fields and its timestamp format."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", FIELDS)
        kwargs.setdefault("rename_fields", RENAMED)
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):
        """Return the record's time in UTC, ISO 8601 with milliseconds: 2026-01-31T12:00:00.123Z."""
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def config(level, loggers=None):
    """Return a ``logging.config.dictConfig`` dict: JSON lines on stderr at ``level``, plus ``loggers``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "cqrs_demo.logs.JsonFormatter"}},
        # stderr (StreamHandler's default): stdout stays free for commands' output (export_products -).
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": loggers or {},
    }
