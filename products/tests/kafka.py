"""A real Kafka-protocol broker for the relay tests: noida-db (requirements-dev.txt), started if none answers.

``kafka_broker`` uses the broker at KAFKA_BOOTSTRAP_SERVERS when one answers there (CI
starts one with ``.ci/ensure-kafka``, compose has its own) and otherwise starts noida-db on
that port for the session, so ``scripts/test`` works on a fresh machine. ``own_kafka``
starts a broker of the test's own, on a free port, that the test may stop and start again.
"""

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from django.conf import settings as django_settings

NOIDA_DB = Path(sys.executable).with_name("noida-db")


def _answers(host, port):
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _wait_until_answers(host, port, timeout=30):
    deadline = time.monotonic() + timeout
    while not _answers(host, port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"noida-db's Kafka did not answer on {host}:{port} within {timeout} s")
        time.sleep(0.1)


class Noida:
    """A noida-db server with only its Kafka service, its data in ``data_dir``."""

    def __init__(self, port, data_dir):
        self.port, self.data_dir = port, str(data_dir)
        self.address = f"127.0.0.1:{self.port}"

    def _run(self, *args):
        subprocess.run(
            [NOIDA_DB, *args, "--data-dir", self.data_dir], check=True, capture_output=True, text=True, timeout=60
        )

    def up(self):
        self._run("up", "--only", "kafka", "--kafka-port", str(self.port))
        _wait_until_answers("127.0.0.1", self.port)

    def stop_kafka(self):
        self._run("stop", "kafka")

    def start_kafka(self):
        self._run("start", "kafka")
        _wait_until_answers("127.0.0.1", self.port)

    def down(self):
        self._run("down")


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    """Return the address of a Kafka-protocol broker: KAFKA_BOOTSTRAP_SERVERS's, started if nothing answers."""
    address = django_settings.KAFKA_BOOTSTRAP_SERVERS.split(",")[0]
    host, port = address.rsplit(":", 1)
    if _answers(host, int(port)):
        yield address
        return
    if host not in ("127.0.0.1", "localhost"):
        pytest.fail(f"No Kafka broker answers at KAFKA_BOOTSTRAP_SERVERS ({address}).")
    broker = Noida(int(port), tmp_path_factory.mktemp("noida-db"))
    broker.up()
    yield address
    broker.down()


@pytest.fixture
def own_kafka(tmp_path):
    """Start a broker of this test's own on a free port; the test may stop and restart its Kafka service."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    broker = Noida(port, tmp_path / "noida-db")
    broker.up()
    yield broker
    broker.down()


def read_topic(address, topic, *, expected=None, timeout=30):
    """Return every record of ``topic`` as (partition, key, headers, body), in each partition's order.

    Reads until ``expected`` records arrived (or, without it, up to the end offsets it finds first).
    """
    consumer = Consumer(
        {"bootstrap.servers": address, "group.id": f"test-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING) for partition in partitions])
        if expected is None:
            offsets = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions]
            expected = sum(high - low for low, high in offsets)
        records, deadline = [], time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise AssertionError(f"reading {topic}: {message.error()}")
            headers = {name: value.decode() for name, value in message.headers() or []}
            records.append((message.partition(), message.key().decode(), headers, orjson.loads(message.value())))
        return records
    finally:
        consumer.close()


@pytest.fixture
def kafka_topic(kafka_broker, settings):
    """Publish to a topic of this test's own; return a function that reads everything in it."""
    settings.KAFKA_BOOTSTRAP_SERVERS = kafka_broker
    settings.KAFKA_TOPIC = f"test.inventory.{uuid.uuid4().hex[:8]}"
    return lambda **options: read_topic(kafka_broker, settings.KAFKA_TOPIC, **options)
