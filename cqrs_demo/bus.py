"""A tiny message bus: commands change state, queries read it, one handler each.

Handlers are registered from ``AppConfig.ready()``. Registering a second handler for a
message type, or finishing start-up with a command or query that has no handler, raises
``ImproperlyConfigured`` so the mistake stops the process instead of failing a request.
"""

import logging
import time
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

logger = logging.getLogger("cqrs_demo.bus")


@dataclass(frozen=True)
class Command:
    """Base class of commands: an imperative request to change state."""


@dataclass(frozen=True)
class Query:
    """Base class of queries: a request to read state, changing nothing."""


class HandlerNotFoundError(LookupError):
    """No handler is registered for a message."""


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _callable(handler):
    # A class handler is instantiated once; an instance or function is used as it is.
    return handler() if isinstance(handler, type) else handler


class MessageBus:
    """Route each command or query to its single handler."""

    def __init__(self):
        self._handlers = {}

    def register(self, message_type, handler):
        """Register ``handler`` (a function, a callable class or instance) for ``message_type``."""
        if not (isinstance(message_type, type) and issubclass(message_type, (Command, Query))):
            raise ImproperlyConfigured(f"{message_type!r} is neither a Command nor a Query.")
        if message_type in self._handlers:
            raise ImproperlyConfigured(
                f"{message_type.__name__} already has a handler "
                f"({self._handlers[message_type]!r}); each message has exactly one."
            )
        self._handlers[message_type] = _callable(handler)

    def check_complete(self):
        """Raise when a defined command or query has no handler."""
        missing = sorted(
            cls.__name__
            for base in (Command, Query)
            for cls in _all_subclasses(base)
            if cls not in self._handlers and not getattr(cls, "abstract", False)
        )
        if missing:
            raise ImproperlyConfigured(f"No handler registered for: {', '.join(missing)}.")

    def handler_for(self, message):
        try:
            return self._handlers[type(message)]
        except KeyError:
            raise HandlerNotFoundError(f"No handler registered for {type(message).__name__}.") from None

    def dispatch(self, command):
        """Run a command's handler in one transaction and log one line about it."""
        if not isinstance(command, Command):
            raise TypeError(f"{command!r} is not a Command.")
        handler = self.handler_for(command)
        started = time.perf_counter()
        outcome = "ok"
        try:
            with transaction.atomic():
                return handler(command)
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            logger.info(
                "command",
                extra={
                    "command": type(command).__name__,
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    def ask(self, query):
        """Run a query's handler and return its result."""
        if not isinstance(query, Query):
            raise TypeError(f"{query!r} is not a Query.")
        return self.handler_for(query)(query)


bus = MessageBus()
