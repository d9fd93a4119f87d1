"""The relay to Kafka: every event reaches the topic at least once, keyed by its aggregate, in order per key.

Against a real Kafka-protocol broker (noida-db, ``products.tests.kafka``), read back with
confluent-kafka's consumer.
"""

import signal
import time
import uuid
from decimal import Decimal

import orjson
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max

from cqrs_demo.bus import bus
from products import events
from products.events import schema
from products.tests import event_contract
from products.tests.kafka import read_topic
from products.tests.write.test_relay import _history
from products.tests.write.test_relay import exchange as exchange
from products.write import brokers, commands, relay
from products.write.event_log import message_of
from products.write.models import EventRecord

pytestmark = pytest.mark.manual_projection


def _log(after=0):
    return list(EventRecord.objects.filter(id__gt=after).order_by("xact_id", "id"))


def _publish_earlier_events():
    """Publish what the log held before the test (the migration's LocationCreated of main); return its last id."""
    relay.run("kafka")
    return EventRecord.objects.aggregate(last=Max("id"))["last"] or 0


def _after(mark, records):
    return [record for record in records if record[3]["event_id"] > mark]


def _headers(record):
    """The headers as the AMQP ones, from the record's text values."""
    return {"id": int(record["id"]), "type": record["type"], "schema_version": int(record["schema_version"])}


def _unique(records):
    seen, unique = set(), []
    for record in records:
        if record[3]["event_id"] not in seen:
            seen.add(record[3]["event_id"])
            unique.append(record)
    return unique


def _in_order_per_key(records):
    """Whether each key's records are in one partition, in log order."""
    partitions, ids = {}, {}
    for partition, key, _, body in records:
        partitions.setdefault(key, set()).add(partition)
        ids.setdefault(key, []).append(body["event_id"])
    return all(len(found) == 1 for found in partitions.values()) and all(i == sorted(i) for i in ids.values())


@pytest.mark.django_db(transaction=True)
def test_each_event_is_published_once_in_log_order_keyed_by_its_product(kafka_topic):
    mark = _publish_earlier_events()
    waiting = relay.backlog("kafka")
    product_ids = _history()
    log = _log(mark)
    assert relay.backlog("kafka") == waiting + len(log) == waiting + 18
    assert relay.run("kafka") == 18
    records = _after(mark, kafka_topic())
    assert [body["event_id"] for _, _, _, body in records] == [record.id for record in log]
    for (_, key, headers, body), record in zip(records, log, strict=True):
        assert body == orjson.loads(orjson.dumps(message_of(record)))  # the same body as on RabbitMQ
        assert headers == {"id": str(record.id), "type": record.type, "schema_version": "2"}
        assert event_contract.errors(record.type, body, _headers(headers)) == []
        assert key == (body["product_id"] or body["data"]["code"])
    assert {key for _, key, _, _ in records} == {str(product_id) for product_id in product_ids}
    assert _in_order_per_key(records)
    assert relay.backlog("kafka") == 0
    assert relay.run("kafka") == 0  # nothing is published twice by a healthy relay
    assert _after(mark, kafka_topic()) == records


@pytest.mark.django_db(transaction=True)
def test_events_without_a_product_are_keyed_by_their_aggregate(kafka_topic):
    mark = _publish_earlier_events()
    bus.dispatch(commands.CreateCategory(name="Tools", slug="tools"))
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    product_id = bus.dispatch(
        commands.CreateProduct(sku="K-1", name="Keyed", price=Decimal("1.00"), initial_stock=10, category="tools")
    )["id"]
    line = commands.ReservationLine(product_id=product_id, quantity=3)
    reservation_id = bus.dispatch(commands.PlaceReservation(lines=(line,)))["id"]
    bus.dispatch(
        commands.TransferStock(
            from_location="main", to_location="east", lines=(commands.TransferLine(product_id=product_id, quantity=2),)
        )
    )
    relay.run("kafka")
    keys = {body["type"]: key for _, key, _, body in _after(mark, kafka_topic())}
    assert keys == {
        "CategoryCreated": "tools",
        "LocationCreated": "east",
        "ProductCreated": product_id,
        "ReservationPlaced": reservation_id,
        "StockAdjusted": product_id,
        "StockTransferred": "main",  # the location the stock left
    }
    # The key is the declared field of each event type, the product's id when it has one.
    declared = {event_type.__name__: event_type.key_field for event_type in events.EVENT_TYPES}
    assert {name: key for name, key in declared.items() if key != "product_id"} == {
        "CategoryCreated": "slug",
        "CategoryRenamed": "slug",
        "LocationCreated": "code",
        "LocationChanged": "code",
        "StockTransferred": "from_location",
        "ReservationPlaced": "reservation_id",
        "ReservationCommitted": "reservation_id",
        "ReservationReleased": "reservation_id",
        "ReservationExtended": "reservation_id",
        "ReservationExpired": "reservation_id",
    }


def test_an_event_type_must_name_a_field_to_key_by():
    with pytest.raises(TypeError, match="Nameless has no field 'product_id' to key its messages by"):

        @schema.event(version=1)
        class Nameless:
            slug: str


@pytest.mark.django_db(transaction=True)
def test_each_broker_has_its_own_position(kafka_topic, exchange):
    _, drain = exchange
    relay.run("rabbitmq")
    mark = _publish_earlier_events()
    _history(products=2, adjustments=2)
    assert relay.run("rabbitmq") == 6
    assert relay.run("kafka") == 6  # RabbitMQ's relay took nothing from Kafka's
    published = [body["event_id"] for _, _, body in drain() if body["event_id"] > mark]
    assert (
        published
        == [body["event_id"] for _, _, _, body in _after(mark, kafka_topic())]
        == [record.id for record in _log(mark)]
    )


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_leaves_events_waiting(kafka_topic):
    mark = _publish_earlier_events()
    waiting = relay.backlog("kafka")
    _history(products=1, adjustments=2)
    with pytest.raises(brokers.Unavailable, match=r"Kafka at 127\.0\.0\.1:1:"):
        relay.run("kafka", bootstrap_servers="127.0.0.1:1")  # nothing listens on port 1
    assert relay.backlog("kafka") == waiting + 3
    assert relay.run("kafka") == 3  # the broker is back: the backlog drains
    assert [body["type"] for _, _, _, body in _after(mark, kafka_topic())] == [
        "ProductCreated",
        "StockAdjusted",
        "StockAdjusted",
    ]


@pytest.mark.parametrize(
    ("broker", "settings_", "message"),
    [
        ("nats", {}, "Unknown broker 'nats': choose one of rabbitmq, kafka."),
        ("kafka", {"KAFKA_BOOTSTRAP_SERVERS": "kafka"}, "KAFKA_BOOTSTRAP_SERVERS must be host:port[,host:port...]"),
        ("kafka", {"KAFKA_BOOTSTRAP_SERVERS": "a:9092,b:99999"}, "has a port outside 1-65535"),
        ("kafka", {"KAFKA_TOPIC": "inventory events"}, "KAFKA_TOPIC must be 1-249 letters"),
        ("kafka", {"KAFKA_DELIVERY_TIMEOUT": 0}, "KAFKA_DELIVERY_TIMEOUT must be a positive number of seconds"),
        ("rabbitmq", {"RABBITMQ_URL": "localhost:5672"}, "RABBITMQ_URL must be amqp://user:password@host:port/vhost"),
        ("rabbitmq", {"RABBITMQ_URL": "amqp://guest:guest@rabbit:notaport/%2F"}, "RABBITMQ_URL 'amqp://"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_published(settings, broker, settings_, message):
    for name, value in settings_.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        relay.run(broker, follow=True)
    assert message in str(refused.value)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--broker", "nats"], {}, "error: argument --broker: invalid choice: 'nats'"),
        (["--broker", "kafka"], {"KAFKA_BOOTSTRAP_SERVERS": "kafka:x"}, "CommandError: KAFKA_BOOTSTRAP_SERVERS must"),
        ([], {"RABBITMQ_URL": "http://rabbit/"}, "CommandError: RABBITMQ_URL must be amqp://"),
    ],
)
def test_publish_events_exits_at_once_on_bad_settings(manage, args, env, message):
    process = manage("publish_events", "--follow", *args, env=env)
    assert process.wait(timeout=60) != 0
    assert message in process.stdout.read()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_broker_outage_is_retried_with_backoff_and_skips_nothing(own_kafka, manage):
    topic = f"test.inventory.{uuid.uuid4().hex[:8]}"
    env = {"KAFKA_BOOTSTRAP_SERVERS": own_kafka.address, "KAFKA_TOPIC": topic, "KAFKA_DELIVERY_TIMEOUT": "1"}
    relay_process = manage("publish_events", "--broker", "kafka", "--follow", "--poll-interval", "0.1", env=env)
    _history(products=2, adjustments=3)
    _wait_for(lambda: relay.backlog("kafka") == 0)
    before = EventRecord.objects.count()

    own_kafka.stop_kafka()
    _history(products=1, adjustments=3, sku="DOWN")
    during = EventRecord.objects.count() - before
    time.sleep(6)  # a few attempts, a backoff apart
    assert relay.backlog("kafka") == during  # its position never moved while the broker was away
    own_kafka.start_kafka()
    _wait_for(lambda: relay.backlog("kafka") == 0)
    relay_process.send_signal(signal.SIGTERM)
    assert relay_process.wait(timeout=30) == 0
    output = relay_process.stdout.read()

    failures = [orjson.loads(line) for line in output.splitlines() if "broker unavailable" in line]
    # One structured line per failure, nothing else on the way (librdkafka's own log is off).
    assert output.count("\n") == len(failures) + 1 + output.count("published "), output
    assert len(failures) >= 2
    assert [failure["failures"] for failure in failures] == list(range(1, len(failures) + 1))
    assert [failure["retry_in_seconds"] for failure in failures[:3]] == [0.1, 0.2, 0.4][: len(failures[:3])]
    assert {(failure["broker"], failure["address"]) for failure in failures} == {("kafka", own_kafka.address)}
    assert all(failure["backlog"] == during for failure in failures)
    records = _unique(read_topic(own_kafka.address, topic, expected=EventRecord.objects.count()))
    assert [body["event_id"] for _, _, _, body in records] == [record.id for record in _log()]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_relay_killed_mid_stream_publishes_each_event_at_least_once_and_at_most_its_batch_twice(
    kafka_topic, settings, manage
):
    _history(products=5, adjustments=40)
    total = EventRecord.objects.count()
    env = {"KAFKA_BOOTSTRAP_SERVERS": settings.KAFKA_BOOTSTRAP_SERVERS, "KAFKA_TOPIC": settings.KAFKA_TOPIC}
    first = manage("publish_events", "--broker", "kafka", "--follow", "--batch-size", "5", env=env)
    _wait_for(lambda: relay.backlog("kafka") <= total * 2 // 3, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert 0 < relay.backlog("kafka") < total, "the kill should land mid-stream"
    second = manage("publish_events", "--broker", "kafka", "--batch-size", "5", env=env)
    assert second.wait(timeout=120) == 0, second.stdout.read()
    assert relay.backlog("kafka") == 0

    records = kafka_topic()
    unique = _unique(records)
    # At least once: every event arrived; a consumer deduplicating by the id header sees each once.
    assert [body["event_id"] for _, _, _, body in unique] == [record.id for record in _log()]
    # At most the batch in flight at the kill again: it was acknowledged, its position not yet committed.
    assert len(records) - len(unique) <= 5
    assert _in_order_per_key(unique)


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
