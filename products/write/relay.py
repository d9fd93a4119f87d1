"""The outbox relay: publish the event log to a RabbitMQ topic exchange, in log order.

An event is marked published only after the broker confirmed it (publisher confirms), in
the same transaction that read it, so each event reaches the broker at least once; a
crash between the confirm and the commit publishes it again, and consumers drop the
duplicate by its ``event_id`` (also the AMQP ``message_id``). One relay publishes at a
time (an advisory lock), and it publishes the events of finished transactions only, in
(xact_id, id) order, so messages leave in log order, which keeps each product's events in
order on every queue (a product's commands hold its lock before their transaction gets an
id, so their ids follow their commit order: see ``products.write.commands.common``).
"""

import contextlib
import logging
import time

import orjson
import pika
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from products.sql import FINISHED_EVENTS
from products.write.event_log import headers_of, message_of
from products.write.models import EventRecord

logger = logging.getLogger("products.relay")

RELAY_LOCK = 7_401_002


def connect(url=None):
    """Open a channel with publisher confirms and declare the durable topic exchange."""
    parameters = pika.URLParameters(url or settings.RABBITMQ_URL)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    connection_ = pika.BlockingConnection(parameters)
    channel = connection_.channel()
    channel.confirm_delivery()
    channel.exchange_declare(exchange=settings.RABBITMQ_EXCHANGE, exchange_type="topic", durable=True)
    return channel


def publish_batch(channel, batch_size=100):
    """Publish the oldest unpublished events; return how many were confirmed and marked."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK])
            if not cursor.fetchone()[0]:
                return 0  # another relay is publishing
        # The events of finished transactions, in log order (see products.sql.FINISHED_EVENTS).
        records = list(
            EventRecord.objects.filter(
                RawSQL(FINISHED_EVENTS, [], output_field=BooleanField()), published_at=None
            ).order_by("xact_id", "id")[:batch_size]
        )
        for record in records:
            # Blocks until the broker confirms; a nack or a lost connection raises and rolls back.
            channel.basic_publish(
                exchange=settings.RABBITMQ_EXCHANGE,
                routing_key=record.type,
                body=orjson.dumps(message_of(record)),
                properties=pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=str(record.id),
                    type=record.type,
                    headers=headers_of(record),
                ),
            )
        if records:
            EventRecord.objects.filter(id__in=[r.id for r in records]).update(published_at=timezone.now())
    return len(records)


def run(*, follow=False, batch_size=100, poll_interval=0.5, url=None, on_batch=None, should_stop=lambda: False):
    """Relay until the outbox is empty (or, with ``follow``, until ``should_stop``)."""
    total, channel, backoff = 0, None, poll_interval
    while not should_stop():
        try:
            channel = channel or connect(url)
            published = publish_batch(channel, batch_size)
            backoff = poll_interval
        except (pika.exceptions.AMQPError, OSError) as error:
            # The broker is away: events wait in the outbox and drain once it is back.
            logger.warning("broker unavailable", extra={"error": type(error).__name__})
            _close(channel)
            channel = None
            if not follow:
                raise
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)
            continue
        total += published
        if on_batch and published:
            on_batch(published, total)
        if published < batch_size:
            if not follow:
                break
            time.sleep(poll_interval)
    _close(channel)
    return total


def _close(channel):
    if channel is not None:
        # Closing a dead connection may fail in many ways; it is gone either way.
        with contextlib.suppress(Exception):
            channel.connection.close()


def backlog():
    """Return the number of events not yet published."""
    return EventRecord.objects.filter(published_at=None).count()
