"""The brokers the relay publishes to: one small interface, a sink per broker.

A sink is opened (``open``), given a batch of envelopes in log order (``publish``), and
closed (``close``). ``publish`` returns only once the broker has confirmed every message
of the batch, and raises ``Unavailable`` otherwise, so the relay stores its position only
after the broker's acknowledgement (``products.write.relay``). Each sink checks its settings
when it is made (``sink``): a malformed URL or address is an ``ImproperlyConfigured`` at
start, never a retry loop.

- RabbitMQ: a durable topic exchange, routing key = event type, publisher confirms.
- Kafka: one topic, record key = the event's aggregate key (the product's id), so a
  product's events stay in one partition, in order; confluent-kafka's idempotent producer
  (``enable.idempotence``, ``acks=all``), so its own retries write no duplicate and keep
  the order within a partition.
"""

import contextlib
import re
import urllib.parse

import confluent_kafka
import pika
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BROKERS = ("rabbitmq", "kafka")


class Unavailable(Exception):
    """The broker could not be reached or did not confirm a message; nothing of the batch counts as published."""


class RabbitMQ:
    name = "rabbitmq"

    def __init__(self, url, exchange):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("amqp", "amqps") or not parsed.hostname:
            raise ImproperlyConfigured(f"RABBITMQ_URL must be amqp://user:password@host:port/vhost, not {url!r}.")
        try:
            self._parameters = pika.URLParameters(url)
        except ValueError as error:
            raise ImproperlyConfigured(f"RABBITMQ_URL {url!r} is malformed: {error}") from error
        self._parameters.connection_attempts = 1
        self._parameters.socket_timeout = 5
        self.exchange = exchange
        self.address = f"{parsed.hostname}:{parsed.port or 5672}"
        self._channel = None

    def open(self):
        """Open a channel with publisher confirms and declare the durable topic exchange."""
        try:
            channel = pika.BlockingConnection(self._parameters).channel()
            channel.confirm_delivery()
            channel.exchange_declare(exchange=self.exchange, exchange_type="topic", durable=True)
        except (pika.exceptions.AMQPError, OSError) as error:
            raise Unavailable(f"RabbitMQ at {self.address}: {type(error).__name__}") from error
        self._channel = channel

    def publish(self, envelopes):
        try:
            for envelope in envelopes:
                # Blocks until the broker confirms; a nack or a lost connection raises.
                self._channel.basic_publish(
                    exchange=self.exchange,
                    routing_key=envelope.type,
                    body=envelope.body,
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=str(envelope.headers["id"]),
                        type=envelope.type,
                        headers=envelope.headers,
                    ),
                )
        except (pika.exceptions.AMQPError, OSError) as error:
            raise Unavailable(f"RabbitMQ at {self.address}: {type(error).__name__}") from error

    def close(self):
        if self._channel is not None:
            # Closing a dead connection may fail in many ways; it is gone either way.
            with contextlib.suppress(Exception):
                self._channel.connection.close()
            self._channel = None


# host:port, comma-separated: a name or IPv4 address, or an IPv6 one in brackets.
_BOOTSTRAP = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def _bootstrap_servers(value):
    servers = [server.strip() for server in value.split(",")]
    if not value.strip() or not all(_BOOTSTRAP.match(server) for server in servers):
        raise ImproperlyConfigured(
            f"KAFKA_BOOTSTRAP_SERVERS must be host:port[,host:port...] (such as kafka:9092), not {value!r}."
        )
    if not all(0 < int(_BOOTSTRAP.match(server).group(2)) < 65536 for server in servers):
        raise ImproperlyConfigured(f"KAFKA_BOOTSTRAP_SERVERS {value!r} has a port outside 1-65535.")
    return ",".join(servers)


class Kafka:
    name = "kafka"

    def __init__(self, bootstrap_servers, topic, delivery_timeout):
        self.address = _bootstrap_servers(bootstrap_servers)
        if not topic or not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", topic):
            raise ImproperlyConfigured(f"KAFKA_TOPIC must be 1-249 letters, digits, '.', '_' or '-', not {topic!r}.")
        self.topic = topic
        if delivery_timeout <= 0:  # librdkafka reads 0 as "wait forever"
            raise ImproperlyConfigured(
                f"KAFKA_DELIVERY_TIMEOUT must be a positive number of seconds, not {delivery_timeout}."
            )
        self.delivery_timeout = delivery_timeout
        self._producer = None

    def open(self):
        producer = confluent_kafka.Producer(
            {
                "bootstrap.servers": self.address,
                "enable.idempotence": True,  # implies acks=all and ordered retries
                "acks": "all",
                # Every message of a batch gets its report (delivered or failed) within this,
                # so nothing of a failed batch is left queued to arrive after its retry.
                "message.timeout.ms": int(self.delivery_timeout * 1000),
                "linger.ms": 5,
                # librdkafka would log each refused connection itself; the relay logs each
                # failure once, as one structured line with the reason.
                "log_level": 0,
            }
        )
        try:
            # The producer connects lazily; asking for the topic's metadata tells at once
            # whether a broker answers (and creates the topic where the broker does that).
            producer.list_topics(self.topic, timeout=self.delivery_timeout)
        except confluent_kafka.KafkaException as error:
            raise Unavailable(f"Kafka at {self.address}: {error.args[0].str()}") from error
        self._producer = producer

    def publish(self, envelopes):
        failures = []

        def delivered(error, message):
            if error is not None:
                failures.append(error)

        try:
            for envelope in envelopes:
                self._producer.produce(
                    self.topic,
                    key=envelope.key.encode(),
                    value=envelope.body,
                    headers=[(name, str(value).encode()) for name, value in envelope.headers.items()],
                    on_delivery=delivered,
                )
        except (confluent_kafka.KafkaException, BufferError) as error:
            self._producer.flush(self.delivery_timeout + 5)
            raise Unavailable(f"Kafka at {self.address}: {error}") from error
        # Each message is reported by message.timeout.ms at the latest: the margin is for the report.
        undelivered = self._producer.flush(self.delivery_timeout + 5)
        if failures or undelivered:
            reason = failures[0].str() if failures else f"{undelivered} messages unconfirmed"
            raise Unavailable(f"Kafka at {self.address}: {reason}")

    def close(self):
        if self._producer is not None:
            # Whatever is still queued belongs to a batch that failed; the relay publishes it again.
            self._producer.purge()
            self._producer.flush(0)
            self._producer = None


def sink(broker, *, url=None, bootstrap_servers=None):
    """Return the sink of ``broker`` with its settings (or the URL or addresses given), checked."""
    if broker == "rabbitmq":
        return RabbitMQ(url or settings.RABBITMQ_URL, settings.RABBITMQ_EXCHANGE)
    if broker == "kafka":
        return Kafka(
            bootstrap_servers or settings.KAFKA_BOOTSTRAP_SERVERS, settings.KAFKA_TOPIC, settings.KAFKA_DELIVERY_TIMEOUT
        )
    raise ImproperlyConfigured(f"Unknown broker {broker!r}: choose one of {', '.join(BROKERS)}.")
