"""A tiny message bus: commands change state, queries read it, events tell what happened.

Commands and queries have exactly one handler each; events have 0..n, given as one table
(event type -> handlers), and travel as Django signals, one per event type, so receivers
run synchronously in the publisher's transaction. Everything is registered from
``AppConfig.ready()``. A second handler for a command or query, a second table entry for
an event, or finishing start-up with a message left out raises ``ImproperlyConfigured``,
so the mistake stops the process instead of failing a request.
"""

import logging
import time
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger("cqrs_demo.bus")


@dataclass(frozen=True)
class Command:
    """Base class of commands: an imperative request to change state."""


@dataclass(frozen=True)
class Query:
    """Base class of queries: a request to read state, changing nothing."""


@dataclass(frozen=True)
class Event:
    """Base class of events: something that happened, in the past tense."""


class HandlerNotFoundError(LookupError):
    """No handler is registered for a message."""


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _callable(handler):
    # A class handler is instantiated once; an instance or function is used as it is.
    return handler() if isinstance(handler, type) else handler


def events_in_sql(*event_types, single_statement=False):
    """Mark a command handler whose own SQL appends its events to the log and projects them.

    Its events then need no handlers in the event table (``check_complete`` refuses any:
    they would run outside that SQL). A ``single_statement`` handler writes with one SQL
    statement, atomic by itself, so the bus runs it without opening a transaction (no BEGIN,
    no COMMIT: one round trip); inside a caller's transaction, the handler itself keeps that
    transaction usable when its statement is refused (a savepoint).
    """

    def mark(handler):
        handler.events_in_sql = event_types
        handler.single_statement = single_statement
        return handler

    return mark


def _receiver(handler):
    def receive(sender, event, signal, **details):
        handler(event, **details)

    receive.__qualname__ = getattr(handler, "__qualname__", repr(handler))
    return receive


class MessageBus:
    """Route each command or query to its single handler."""

    def __init__(self):
        self._handlers = {}
        self._signals = {}  # event type -> the Django signal its handlers receive
        self._event_handlers = {}  # event type -> its handlers, as subscribed

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

    def subscribe(self, event_handlers):
        """Connect each event type of ``{event type: (handler, ...)}`` to its 0..n handlers.

        Each handler is called as ``handler(event, **details)`` (``publish``'s details); every
        event type gets one entry, an empty tuple when nothing reacts to it.
        """
        for event_type, handlers in event_handlers.items():
            if not (isinstance(event_type, type) and issubclass(event_type, Event)):
                raise ImproperlyConfigured(f"{event_type!r} is not an Event.")
            if event_type in self._signals:
                raise ImproperlyConfigured(f"{event_type.__name__} is already in the event table.")
            signal = self._signals[event_type] = Signal()
            self._event_handlers[event_type] = tuple(handlers)
            for handler in handlers:
                signal.connect(_receiver(handler), weak=False)

    def check_complete(self):
        """Raise when a defined command or query has no handler, or an event no table entry."""
        missing = sorted(
            cls.__name__
            for base, table in ((Command, self._handlers), (Query, self._handlers), (Event, self._signals))
            for cls in _all_subclasses(base)
            if cls not in table and not getattr(cls, "abstract", False)
        )
        if missing:
            raise ImproperlyConfigured(f"No handler registered for: {', '.join(missing)}.")
        for handler in self._handlers.values():
            for event_type in getattr(handler, "events_in_sql", ()):
                if self._event_handlers.get(event_type):
                    raise ImproperlyConfigured(
                        f"{event_type.__name__} is appended and projected by the SQL of {handler.__name__}; "
                        "its handlers would run outside it. Give it none in the event table."
                    )

    def handler_for(self, message):
        try:
            return self._handlers[type(message)]
        except KeyError:
            raise HandlerNotFoundError(f"No handler registered for {type(message).__name__}.") from None

    def dispatch(self, command):
        """Run a command's handler in one transaction and log one line about it.

        A single-statement handler (``events_in_sql``) runs without a transaction block of its
        own: its one statement is its transaction, or part of the caller's.
        """
        if not isinstance(command, Command):
            raise TypeError(f"{command!r} is not a Command.")
        handler = self.handler_for(command)
        started = time.perf_counter()
        outcome = "ok"
        try:
            if getattr(handler, "single_statement", False):
                return handler(command)  # one statement: atomic by itself
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

    def publish(self, event, **details):
        """Send ``event`` to the handlers of its type, in the caller's transaction.

        Each handler gets ``details`` too: what the publisher recorded of the event (the event
        log: its payload). A handler's error propagates, so it rolls the command back.
        """
        try:
            signal = self._signals[type(event)]
        except KeyError:
            raise HandlerNotFoundError(f"{type(event).__name__} is not in the event table.") from None
        signal.send(sender=type(event), event=event, **details)

    def ask(self, query):
        """Run a query's handler and return its result."""
        if not isinstance(query, Query):
            raise TypeError(f"{query!r} is not a Query.")
        return self.handler_for(query)(query)


bus = MessageBus()
