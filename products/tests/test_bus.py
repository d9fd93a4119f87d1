"""The message bus: one handler per message, checked at start-up; dispatch is transactional and logged."""

import logging
from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from cqrs_demo.bus import Command, Event, HandlerNotFoundError, MessageBus, Query, _all_subclasses, bus, events_in_sql
from products import events
from products.read import projections, projector, queries
from products.write import commands, event_log
from products.write.commands import stock
from products.write.models import Category


# ``abstract`` keeps these test-only messages out of every check_complete() of the real bus.
@dataclass(frozen=True)
class Ping(Command):
    abstract = True
    text: str = "ping"


@dataclass(frozen=True)
class Echo(Query):
    abstract = True
    text: str = "echo"


def test_the_application_bus_has_a_handler_for_every_message():
    bus.check_complete()
    for message_type in (*commands.HANDLERS, *queries.HANDLERS):
        assert bus.handler_for(message_type.__new__(message_type)) is not None


def test_the_event_table_names_every_event_type_and_the_worker_and_payloads_follow_it():
    assert set(projector.EVENT_HANDLERS) == set(events.EVENT_TYPES)
    assert set(events.EVENT_TYPES) == {cls for cls in _all_subclasses(Event) if not getattr(cls, "abstract", False)}
    in_sql = {event_type for handler in stock.HANDLERS.values() for event_type in handler.events_in_sql}
    assert set(projections.PROJECTIONS) == set(event_log.STATE) | in_sql == set(events.EVENT_TYPES)


def test_an_event_left_out_of_the_table_stops_start_up():
    fresh = MessageBus()
    for handlers in (commands.HANDLERS, queries.HANDLERS):
        for message_type, handler in handlers.items():
            fresh.register(message_type, handler)
    table = dict(projector.EVENT_HANDLERS)
    del table[events.StockSet]
    fresh.subscribe(table)
    with pytest.raises(ImproperlyConfigured, match=r"No handler registered for: StockSet\."):
        fresh.check_complete()
    with pytest.raises(ImproperlyConfigured, match="StockAdjusted is already in the event table"):
        fresh.subscribe({events.StockAdjusted: ()})


def test_published_events_reach_each_of_their_handlers_in_order():
    @dataclass(frozen=True)
    class Pinged(Event):
        abstract = True
        text: str

    fresh, seen = MessageBus(), []
    fresh.subscribe(
        {Pinged: (lambda event: seen.append(("first", event.text)), lambda event: seen.append(("second", event.text)))}
    )
    fresh.publish(Pinged(text="hi"))
    assert seen == [("first", "hi"), ("second", "hi")]


def test_handlers_get_what_the_publisher_recorded_of_the_event():
    # The event log hands the payload it logged: single-database mode's projections apply it.
    @dataclass(frozen=True)
    class Pinged(Event):
        abstract = True
        text: str

    fresh, seen = MessageBus(), []
    fresh.subscribe({Pinged: (lambda event, payload: seen.append((event.text, payload)),)})
    fresh.publish(Pinged(text="hi"), payload={"text": "hi", "n": 1})
    assert seen == [("hi", {"text": "hi", "n": 1})]


def test_publishing_an_event_outside_the_table_is_refused():
    with pytest.raises(HandlerNotFoundError):
        MessageBus().publish(events.StockSet(product_id=None, movement_id=1, delta=1, quantity=1))


def test_registering_a_second_handler_is_refused():
    fresh = MessageBus()
    fresh.register(Ping, lambda command: "first")
    with pytest.raises(ImproperlyConfigured, match="Ping already has a handler"):
        fresh.register(Ping, lambda command: "second")


def test_registering_a_handler_for_something_that_is_not_a_message_is_refused():
    fresh = MessageBus()
    with pytest.raises(ImproperlyConfigured):
        fresh.register(str, lambda message: None)
    with pytest.raises(ImproperlyConfigured):
        fresh.register(Ping(), lambda message: None)


def test_check_complete_names_every_message_without_a_handler():
    @dataclass(frozen=True)
    class ForgottenCommand(Command):
        pass

    @dataclass(frozen=True)
    class ForgottenQuery(Query):
        pass

    try:
        fresh = MessageBus()
        for handlers in (commands.HANDLERS, queries.HANDLERS):
            for message_type, handler in handlers.items():
                fresh.register(message_type, handler)
        fresh.subscribe(projector.EVENT_HANDLERS)
        with pytest.raises(ImproperlyConfigured) as raised:
            fresh.check_complete()
        assert str(raised.value) == "No handler registered for: ForgottenCommand, ForgottenQuery."
        fresh.register(ForgottenCommand, lambda command: None)
        fresh.register(ForgottenQuery, lambda query: None)
        fresh.check_complete()
    finally:
        # The classes stay alive as subclasses of Command/Query; retire them from later checks.
        ForgottenCommand.abstract = True
        ForgottenQuery.abstract = True


def test_check_complete_on_an_empty_bus_lists_the_real_messages():
    with pytest.raises(ImproperlyConfigured) as raised:
        MessageBus().check_complete()
    listed = str(raised.value).removeprefix("No handler registered for: ").rstrip(".").split(", ")
    expected = {message_type.__name__ for message_type in (*commands.HANDLERS, *queries.HANDLERS)}
    assert expected <= set(listed)
    assert "Ping" not in listed
    assert "Echo" not in listed


def test_a_message_without_handler_raises_handler_not_found():
    with pytest.raises(HandlerNotFoundError, match="Echo"):
        MessageBus().ask(Echo())


@pytest.mark.django_db
def test_a_function_handler_receives_the_command_and_its_result_is_returned():
    fresh = MessageBus()
    fresh.register(Ping, lambda command: command.text.upper())
    assert fresh.dispatch(Ping(text="hello")) == "HELLO"


@pytest.mark.django_db
def test_a_class_handler_is_instantiated_once_and_reused():
    class PingHandler:
        instances = 0

        def __init__(self):
            PingHandler.instances += 1
            self.calls = 0

        def __call__(self, command):
            self.calls += 1
            return self.calls

    fresh = MessageBus()
    fresh.register(Ping, PingHandler)
    assert [fresh.dispatch(Ping()), fresh.dispatch(Ping())] == [1, 2]
    assert PingHandler.instances == 1


def test_an_instance_handler_is_used_as_it_is():
    class EchoHandler:
        def __call__(self, query):
            return f"{query.text}!"

    handler = EchoHandler()
    fresh = MessageBus()
    fresh.register(Echo, handler)
    assert fresh.ask(Echo(text="hi")) == "hi!"
    assert fresh.handler_for(Echo()) is handler


def test_dispatch_accepts_only_commands_and_ask_only_queries():
    fresh = MessageBus()
    fresh.register(Ping, lambda command: None)
    fresh.register(Echo, lambda query: None)
    with pytest.raises(TypeError):
        fresh.dispatch(Echo())
    with pytest.raises(TypeError):
        fresh.ask(Ping())


@pytest.mark.django_db
def test_a_handler_that_raises_after_writing_leaves_nothing_behind():
    def handler(command):
        Category.objects.create(slug="half-done", name="Half done")
        raise RuntimeError("boom")

    fresh = MessageBus()
    fresh.register(Ping, handler)
    with pytest.raises(RuntimeError, match="boom"):
        fresh.dispatch(Ping())
    assert not Category.objects.filter(slug="half-done").exists()


@pytest.mark.django_db
def test_a_handler_that_succeeds_keeps_its_writes():
    fresh = MessageBus()
    fresh.register(Ping, lambda command: Category.objects.create(slug="kept", name="Kept").slug)
    assert fresh.dispatch(Ping()) == "kept"
    assert Category.objects.filter(slug="kept").exists()


@pytest.mark.django_db
def test_dispatch_logs_one_line_with_command_outcome_and_duration(caplog):
    fresh = MessageBus()
    fresh.register(Ping, lambda command: None)
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")
    fresh.dispatch(Ping())
    records = [record for record in caplog.records if record.name == "cqrs_demo.bus"]
    assert len(records) == 1
    assert records[0].command == "Ping"
    assert records[0].outcome == "ok"
    assert isinstance(records[0].duration_ms, float)
    assert records[0].duration_ms >= 0


@pytest.mark.django_db
def test_a_failed_dispatch_logs_the_exception_name_as_outcome(caplog):
    def handler(command):
        raise KeyError("nope")

    fresh = MessageBus()
    fresh.register(Ping, handler)
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")
    with pytest.raises(KeyError):
        fresh.dispatch(Ping())
    records = [record for record in caplog.records if record.name == "cqrs_demo.bus"]
    assert [(record.command, record.outcome) for record in records] == [("Ping", "KeyError")]


def test_ask_returns_the_answer_without_a_log_line(caplog):
    fresh = MessageBus()
    fresh.register(Echo, lambda query: query.text)
    caplog.set_level(logging.INFO, logger="cqrs_demo.bus")
    assert fresh.ask(Echo(text="quiet")) == "quiet"
    assert not [record for record in caplog.records if record.name == "cqrs_demo.bus"]


@pytest.mark.django_db(transaction=True)
def test_a_single_statement_handler_runs_without_a_transaction_block_of_its_own():
    @dataclass(frozen=True)
    class Probe(Command):
        abstract = True

    seen = []

    @events_in_sql(single_statement=True)
    def probe(command):
        seen.append(transaction.get_connection().in_atomic_block)

    def plain(command):
        seen.append(transaction.get_connection().in_atomic_block)

    fresh = MessageBus()
    fresh.register(Probe, probe)
    fresh.dispatch(Probe())  # autocommit: its one statement is its transaction
    with transaction.atomic():
        fresh.dispatch(Probe())  # part of the caller's transaction
    other = MessageBus()
    other.register(Probe, plain)
    other.dispatch(Probe())  # any other handler gets a transaction from the bus
    assert seen == [False, True, True]
