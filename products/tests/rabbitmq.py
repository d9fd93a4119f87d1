"""A real RabbitMQ for the relay tests: an exchange of the test's own, with a queue bound to everything.

``rabbitmq_queue`` uses the broker at RABBITMQ_URL. Without one answering it skips, except in
CI, where a missing broker is a broken setup (``.ci/ensure-rabbitmq`` starts one).
"""

import uuid

import orjson
import pika
import pytest
from django.conf import settings as django_settings

from products.tests.support import require


class TestQueue:
    """A topic exchange named for one test, and an exclusive queue bound to it with ``#``."""

    __test__ = False  # not a test class, for pytest

    def __init__(self, url, prefix):
        self.url = url
        self.exchange = f"{prefix}.{uuid.uuid4().hex[:8]}"
        self._connection = pika.BlockingConnection(pika.URLParameters(url))
        self._channel = self._connection.channel()
        self._channel.exchange_declare(exchange=self.exchange, exchange_type="topic", durable=True)
        self._queue = self._channel.queue_declare(queue="", exclusive=True).method.queue
        self._channel.queue_bind(queue=self._queue, exchange=self.exchange, routing_key="#")

    def waiting(self):
        """Return how many messages wait in the queue."""
        return self._channel.queue_declare(queue=self._queue, passive=True).method.message_count

    def drain(self):
        """Take every waiting message: ``[(routing key, properties, body)]``, in the order they arrived."""
        messages = []
        while True:
            method, properties, body = self._channel.basic_get(queue=self._queue, auto_ack=True)
            if method is None:
                return messages
            messages.append((method.routing_key, properties, orjson.loads(body)))

    def close(self):
        self._channel.exchange_delete(exchange=self.exchange)
        self._connection.close()


@pytest.fixture
def rabbitmq_queue(request):
    """A ``TestQueue`` on RABBITMQ_URL, deleted afterwards."""
    url = django_settings.RABBITMQ_URL
    try:
        queue = TestQueue(url, f"test.{request.node.module.__name__.rsplit('.', 1)[-1]}")
    except pika.exceptions.AMQPConnectionError as error:
        require(False, f"no RabbitMQ answers at RABBITMQ_URL ({type(error).__name__}): .ci/ensure-rabbitmq starts one")
    yield queue
    queue.close()
