"""The outbox relay: publish the event log to a broker (``products.write.brokers``), in commit order.

Each broker's relay reads the event feed (``products.events.feed``) through a replication
slot of its own (consumer ``relay_<broker>``): the transactions that committed, in the order
they did, so a transaction left open anywhere on the server holds back no other's events.
An event counts as published only after the broker confirmed it (RabbitMQ's publisher
confirms, Kafka's acks=all): the relay's position (``RelayPosition``, one per broker)
moves past a batch in the same transaction that read it, after the confirmation, and the
slot is advanced only after that commit; transactions at or below the stored position are
skipped when the slot hands them over again. So each event reaches the broker at least
once; a crash between the confirmation and the commit publishes the batch again, and
consumers drop the duplicate by its ``event_id`` (also the ``id`` header). One relay per
broker publishes at a time (its position's row lock). A product's events commit in order
(its commands hold its lock), so they leave in order on every queue and partition.

A relay without a position, or with one stored before it read the feed (an event in
(xact_id, id) order), starts from a snapshot: the events it saw after that position, then
the slot (``feed.start``).
"""

import logging
import time

from django.db import transaction

from products.events import feed
from products.sql import fetch_dicts
from products.write.event_log import envelope_of
from products.write.models import EventRecord, RelayPosition

logger = logging.getLogger("products.relay")

_CATCHING_UP_BACKLOG_SQL = """
    SELECT count(*) AS events FROM products_event WHERE (xact_id, id) > (%(xact_id)s, %(event_id)s)
"""
_BACKLOG_SQL = "SELECT count(*) AS events FROM products_event WHERE id > %(event_id)s"


def consumer(broker):
    """Return the feed consumer name of ``broker``'s relay (``manage.py drop_feed_slot --consumer``)."""
    return f"relay_{broker}"


def slot(broker):
    """Return the replication slot of ``broker``'s relay on the write database (``feed.slot_name``)."""
    return feed.slot_name(consumer(broker))


def _replaced_slot(broker):
    return (
        f"Drop the relay's slot and position (`manage.py drop_feed_slot --consumer {consumer(broker)}`): "
        "it then publishes the whole log again, at least once."
    )


def _step(sink, batch_size):
    """Publish the next events; return how many, and whether there may be more to read at once.

    Creates the relay's slot the first time (outside any transaction: see ``feed.ensure_slot``).
    """
    slot_name = slot(sink.name)
    confirmed = feed.ensure_slot(slot_name)
    RelayPosition.objects.get_or_create(name=sink.name)
    with transaction.atomic():
        position = RelayPosition.objects.select_for_update(skip_locked=True).filter(name=sink.name).first()
        if position is None:
            return 0, False  # another relay to this broker is publishing
        if not position.snapshot:
            feed.start(position, feed.snapshot(), confirmed)
        step = feed.next_events(slot_name, position, confirmed, batch_size, remedy=_replaced_slot(sink.name))
        # The slot hands over whole transactions (a bulk import's at once): published in
        # chunks, so only a chunk's rows and messages are in memory at a time.
        for start in range(0, len(step.events), batch_size):
            ids = [int(event["id"]) for event in step.events[start : start + batch_size]]
            records = EventRecord.objects.in_bulk(ids)
            # Returns once the broker confirmed every message; raises (and rolls back) otherwise.
            sink.publish([envelope_of(records[event_id]) for event_id in ids])
        if step.moved:
            position.save()
    if step.acknowledge is not None:
        # After the commit: a crash before this only re-reads what is skipped.
        feed.acknowledge(slot_name, step.acknowledge)
    return len(step.events), step.moved


def run(
    broker="rabbitmq",
    *,
    follow=False,
    batch_size=100,
    poll_interval=0.5,
    max_backoff=10,
    url=None,
    bootstrap_servers=None,
    on_batch=None,
    should_stop=lambda: False,
):
    """Relay until the outbox is empty (or, with ``follow``, until ``should_stop``).

    The broker's settings are checked first (``ImproperlyConfigured``), then the server's
    logical decoding (``feed.FeedUnavailable``). Without ``follow``
    an unavailable broker raises ``brokers.Unavailable``; with it, the relay logs one line
    per failure and tries again after a backoff that doubles up to ``max_backoff`` seconds,
    its position where it was.
    """
    # Here, not at the top: the API reports the relays' lag (``lags``) without loading the brokers' clients.
    from products.write import brokers

    sink = brokers.sink(broker, url=url, bootstrap_servers=bootstrap_servers)
    feed.check_server()  # a server without logical decoding is a setting to change, not an outage to wait out
    total, is_open, backoff, failures = 0, False, poll_interval, 0
    try:
        while not should_stop():
            try:
                if not is_open:
                    sink.open()
                    is_open = True
                published, more = _step(sink, batch_size)
                backoff, failures = poll_interval, 0
            except brokers.Unavailable as error:
                # The broker is away: events wait in the log and go out once it is back.
                sink.close()
                is_open = False
                if not follow:
                    raise
                failures += 1
                logger.warning(
                    "broker unavailable",
                    extra={
                        "broker": sink.name,
                        "address": sink.address,
                        "error": str(error),
                        "failures": failures,
                        "retry_in_seconds": backoff,
                        "backlog": backlog(sink.name),
                    },
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, max_backoff)
                continue
            total += published
            if on_batch and published:
                on_batch(published, total)
            if not more:
                if not follow:
                    break
                time.sleep(poll_interval)
    finally:
        sink.close()
    return total


def backlog(broker="rabbitmq"):
    """Return the number of events ``broker``'s relay has not published yet (a close count: see ``lag``)."""
    return lag(broker)["events_behind"]


def lag(broker="rabbitmq"):
    """Return how far ``broker``'s relay is behind the log: events, and bytes of WAL its slot has not acknowledged.

    Events behind: while it catches up on a snapshot, those after its position in (xact_id,
    id) order; then those with a higher id than any it published (a transaction that commits
    after a later-started one may also be behind with a lower id: a close count, not an exact one).
    Bytes behind: None while the relay has no slot.
    """
    position = RelayPosition.objects.filter(name=broker).first() or RelayPosition(name=broker)
    name = slot(broker)
    return _lag(position, feed.bytes_behind(name))


def lags():
    """Return ``{broker: lag(broker)}`` for each relay that has a position: a relay that never ran has none.

    Two queries (the positions, their slots), then one per relay (its events behind).
    """
    positions = list(RelayPosition.objects.order_by("name"))
    behind = feed.slots_bytes_behind(slot(position.name) for position in positions) if positions else {}
    return {position.name: _lag(position, behind.get(slot(position.name))) for position in positions}


def _lag(position, bytes_behind):
    if position.caught_up:
        events = fetch_dicts(_BACKLOG_SQL, {"event_id": position.highest_event_id})[0]["events"]
    else:
        after = {"xact_id": position.last_xact_id, "event_id": position.last_event_id}
        events = fetch_dicts(_CATCHING_UP_BACKLOG_SQL, after)[0]["events"]
    return {"broker": position.name, "events_behind": events, "slot": slot(position.name), "bytes_behind": bytes_behind}
