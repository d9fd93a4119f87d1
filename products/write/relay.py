"""The outbox relay: publish the event log to a broker (``products.write.brokers``), in log order.

An event counts as published only after the broker confirmed it (RabbitMQ's publisher
confirms, Kafka's acks=all): the relay's position (``RelayPosition``, one per broker) moves
past a batch in the same transaction that read it, after the confirmation, so each event
reaches the broker at least once; a crash between the confirmation and the commit publishes
the batch again, and consumers drop the duplicate by its ``event_id`` (also the ``id``
header). One relay per broker publishes at a time (its position's row lock), and it
publishes the events of finished transactions only, in (xact_id, id) order, so messages
leave in log order, which keeps each product's events in order on every queue and
partition (a product's commands hold its lock before their transaction gets an id, so
their ids follow their commit order: see ``products.write.commands.common``).
"""

import logging
import time

from django.db import transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from products.sql import FINISHED_EVENTS, fetch_dicts
from products.write import brokers
from products.write.event_log import envelope_of
from products.write.models import EventRecord, RelayPosition

logger = logging.getLogger("products.relay")

# The events of finished transactions after a position (see products.sql.FINISHED_EVENTS).
_AFTER_POSITION = f"(xact_id, id) > (%s, %s) AND {FINISHED_EVENTS}"
_BACKLOG_SQL = "SELECT count(*) AS events FROM products_event WHERE (xact_id, id) > (%(xact_id)s, %(event_id)s)"


def publish_batch(sink, batch_size=100):
    """Publish the oldest events ``sink``'s broker has not confirmed; return how many it confirmed."""
    RelayPosition.objects.get_or_create(name=sink.name)
    with transaction.atomic():
        position = RelayPosition.objects.select_for_update(skip_locked=True).filter(name=sink.name).first()
        if position is None:
            return 0  # another relay to this broker is publishing
        after = RawSQL(_AFTER_POSITION, [position.last_xact_id, position.last_event_id], output_field=BooleanField())
        records = list(EventRecord.objects.filter(after).order_by("xact_id", "id")[:batch_size])
        if records:
            # Returns once the broker confirmed every message; raises (and rolls back) otherwise.
            sink.publish([envelope_of(record) for record in records])
            position.last_xact_id, position.last_event_id = records[-1].xact_id, records[-1].id
            position.save(update_fields=["last_xact_id", "last_event_id", "updated_at"])
    return len(records)


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

    The broker's settings are checked first (``ImproperlyConfigured``). Without ``follow``
    an unavailable broker raises ``brokers.Unavailable``; with it, the relay logs one line
    per failure and tries again after a backoff that doubles up to ``max_backoff`` seconds,
    its position where it was.
    """
    sink = brokers.sink(broker, url=url, bootstrap_servers=bootstrap_servers)
    total, is_open, backoff, failures = 0, False, poll_interval, 0
    try:
        while not should_stop():
            try:
                if not is_open:
                    sink.open()
                    is_open = True
                published = publish_batch(sink, batch_size)
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
            if published < batch_size:
                if not follow:
                    break
                time.sleep(poll_interval)
    finally:
        sink.close()
    return total


def backlog(broker="rabbitmq"):
    """Return the number of events ``broker``'s relay has not published yet."""
    position = RelayPosition.objects.filter(name=broker).values("last_xact_id", "last_event_id").first()
    xact_id, event_id = (position["last_xact_id"], position["last_event_id"]) if position else (0, 0)
    return fetch_dicts(_BACKLOG_SQL, {"xact_id": xact_id, "event_id": event_id})[0]["events"]
