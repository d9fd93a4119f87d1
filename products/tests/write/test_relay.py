"""The outbox relay: every event reaches RabbitMQ at least once, in order per product."""

import io
import json
import signal
import time
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Max

from cqrs_demo.bus import bus
from products.events import feed
from products.tests.support import database_url
from products.write import brokers, commands, relay
from products.write.models import EventRecord, RelayPosition

pytestmark = pytest.mark.manual_projection


@pytest.fixture
def exchange(settings, rabbitmq_queue):
    """Publish to an exchange of this test's own: ``(its name, drain)``, drain taking what reached its queue."""
    settings.RABBITMQ_EXCHANGE = rabbitmq_queue.exchange
    return rabbitmq_queue.exchange, rabbitmq_queue.drain


def _publish_earlier_events(drain):
    """Publish and drop what the log held before the test (the migration's LocationCreated of main)."""
    relay.run()
    drain()
    return EventRecord.objects.aggregate(last=Max("id"))["last"] or 0


def _history(products=3, adjustments=5, sku="R"):
    ids = [
        bus.dispatch(
            commands.CreateProduct(sku=f"{sku}-{n}", name=f"Relayed {n}", price=Decimal("1.00"), initial_stock=50)
        )["id"]
        for n in range(products)
    ]
    for _ in range(adjustments):
        for product_id in ids:
            bus.dispatch(commands.AdjustStock(product_id=product_id, delta=-1))
    return ids


@pytest.mark.django_db(transaction=True)
def test_relay_publishes_each_event_once_in_log_order_with_its_id(exchange):
    mark = _publish_earlier_events(exchange[1])
    _history()
    assert relay.backlog() == 18
    assert relay.run() == 18
    messages = exchange[1]()
    ids = list(EventRecord.objects.filter(id__gt=mark).order_by("id").values_list("id", flat=True))
    assert [body["event_id"] for _, _, body in messages] == ids
    routing_key, properties, body = messages[-1]
    assert routing_key == body["type"] == properties.type == "StockAdjusted"
    assert properties.message_id == str(body["event_id"])
    assert properties.delivery_mode == 2  # persistent
    assert body["schema_version"] == 2
    # The headers say what the body says: a consumer can route on them without parsing the body.
    assert properties.headers == {"id": body["event_id"], "type": "StockAdjusted", "schema_version": 2}
    assert body["data"]["product"]["quantity"] == 45
    assert body["data"]["movement"]["delta"] == -1
    assert relay.backlog() == 0
    assert relay.run() == 0  # nothing is published twice by a healthy relay


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_leaves_events_waiting_and_commands_working(exchange):
    _publish_earlier_events(exchange[1])
    _history(products=1, adjustments=2)  # commands never need the broker
    with pytest.raises(brokers.Unavailable, match=r"RabbitMQ at 127\.0\.0\.1:1: AMQPConnectionError"):
        relay.run(url="amqp://guest:guest@127.0.0.1:1/%2F")  # nothing listens on port 1
    assert relay.backlog() == 3
    assert relay.run() == 3  # the broker is back: the backlog drains
    assert [body["type"] for _, _, body in exchange[1]()] == ["ProductCreated", "StockAdjusted", "StockAdjusted"]


@pytest.mark.django_db(transaction=True)
def test_a_following_relay_retries_with_backoff_one_log_line_per_failure_and_keeps_its_position(exchange, caplog):
    _publish_earlier_events(exchange[1])
    _history(products=1, adjustments=2)
    attempts = []
    relay.run(
        follow=True,
        poll_interval=0.01,
        max_backoff=0.04,
        url="amqp://guest:guest@127.0.0.1:1/%2F",  # the broker is away
        should_stop=lambda: attempts.append(1) or len(attempts) > 5,
    )
    failures = [record for record in caplog.records if record.name == "products.relay"]
    assert [record.getMessage() for record in failures] == ["broker unavailable"] * 5
    assert [record.failures for record in failures] == [1, 2, 3, 4, 5]
    assert [record.retry_in_seconds for record in failures] == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert {(record.broker, record.address, record.backlog) for record in failures} == {("rabbitmq", "127.0.0.1:1", 3)}
    assert "AMQPConnectionError" in failures[0].error
    assert relay.backlog() == 3  # its position stayed
    assert relay.run() == 3  # the broker is back: everything, in log order
    assert [body["type"] for _, _, body in exchange[1]()] == ["ProductCreated", "StockAdjusted", "StockAdjusted"]


@pytest.mark.django_db(transaction=True)
def test_location_events_are_published_with_their_state(exchange):
    _publish_earlier_events(exchange[1])
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    bus.dispatch(commands.ChangeLocation(code="east", is_active=False))
    assert relay.run() == 2
    messages = exchange[1]()
    assert [routing_key for routing_key, _, _ in messages] == ["LocationCreated", "LocationChanged"]
    body = messages[-1][2]
    assert (body["product_id"], body["data"]["code"]) == (None, "east")
    assert body["data"]["location"]["is_active"] is False


@pytest.mark.django_db(transaction=True)
def test_reservation_batch_and_transfer_events_are_published(exchange):
    _publish_earlier_events(exchange[1])
    product_id = bus.dispatch(
        commands.CreateProduct(sku="RV-1", name="Reserved", price=Decimal("1.00"), initial_stock=10, reorder_point=8)
    )["id"]
    bus.dispatch(commands.CreateLocation(code="east", name="East warehouse"))
    line = commands.ReservationLine(product_id=product_id, quantity=3)
    reservation_id = bus.dispatch(commands.PlaceReservation(lines=(line,), reference="order-1"))["id"]
    bus.dispatch(commands.CommitReservation(reservation_id=reservation_id))
    bus.dispatch(
        commands.TransferStock(
            from_location="main", to_location="east", lines=(commands.TransferLine(product_id=product_id, quantity=2),)
        )
    )
    relay.run()
    messages = exchange[1]()
    assert [routing_key for routing_key, _, _ in messages] == [
        "ProductCreated",
        "LocationCreated",
        "ReservationPlaced",
        "StockLow",  # 7 available, reorder point 8: right after the change that took it there
        "StockAdjusted",  # the sale
        "ReservationCommitted",
        "StockAdjusted",  # the transfer's legs
        "StockAdjusted",
        "StockTransferred",
    ]
    placed = messages[2][2]
    assert (placed["product_id"], placed["data"]["reservation"]["reference"]) == (None, "order-1")
    assert [hold["quantity"] for hold in placed["data"]["holds"]] == [3]
    assert messages[-1][2]["data"]["lines"] == [{"product": product_id, "quantity": 2}]


def _open_write_transaction(database, sql):
    """Return a connection to ``database`` on the test's server, in a transaction that ran ``sql`` and holds an id."""
    other = psycopg2.connect(database_url(connection.settings_dict, name=database))
    with other.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        assert cursor.fetchone()[0]  # it holds a transaction id: the relay that read the table waited for it
    return other


@pytest.mark.django_db(transaction=True)
def test_write_transactions_held_open_here_and_in_another_database_hold_back_no_other_commit(exchange):
    _publish_earlier_events(exchange[1])  # the relay's slot exists before the transactions begin
    elsewhere = _open_write_transaction("postgres", "CREATE TEMPORARY TABLE held_open (n int)")
    here = _open_write_transaction(
        connection.settings_dict["NAME"],
        "INSERT INTO products_event (type, payload, created_at) VALUES ('ProductArchived', '{}', now())",
    )
    try:
        _history(products=2, adjustments=1)  # commits beside both
        assert relay.run() == 4  # while both are still open
        assert [body["type"] for _, _, body in exchange[1]()] == ["ProductCreated"] * 2 + ["StockAdjusted"] * 2
        assert here.get_transaction_status() == elsewhere.get_transaction_status()
        assert here.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
    finally:
        here.close()  # rolled back: its event never existed
        elsewhere.close()
    assert relay.run() == 0
    assert relay.backlog() == 0


@pytest.mark.django_db(transaction=True)
def test_a_position_stored_before_the_feed_goes_on_with_the_events_after_it_in_its_order(exchange):
    _publish_earlier_events(exchange[1])
    _history(products=2, adjustments=2)
    ordered = list(EventRecord.objects.order_by("xact_id", "id").values_list("xact_id", "id"))
    # As the relay that read the table in (xact_id, id) order left it: no snapshot, no LSN.
    RelayPosition.objects.filter(name="rabbitmq").delete()
    RelayPosition.objects.create(name="rabbitmq", last_xact_id=ordered[-4][0], last_event_id=ordered[-4][1])
    assert relay.backlog() == 3
    assert relay.run() == 3
    assert [body["event_id"] for _, _, body in exchange[1]()] == [event_id for _, event_id in ordered[-3:]]
    assert relay.run() == 0
    assert relay.lag()["events_behind"] == 0


@pytest.mark.django_db(transaction=True)
def test_dropping_a_relays_slot_drops_its_position_so_it_publishes_the_log_again(exchange):
    _publish_earlier_events(exchange[1])
    _history(products=1, adjustments=1)
    relay.run()
    assert relay.lag()["bytes_behind"] is not None
    call_command("drop_feed_slot", "--consumer", "relay_rabbitmq")
    assert not feed.slot_exists(relay.slot("rabbitmq"))
    assert not RelayPosition.objects.filter(name="rabbitmq").exists()
    assert relay.lag()["bytes_behind"] is None
    exchange[1]()
    assert relay.run() == EventRecord.objects.count()  # at least once: everything again, from a new slot


@pytest.mark.django_db(transaction=True)
def test_a_relay_whose_slot_was_dropped_under_its_position_refuses_and_says_what_to_do(exchange):
    _publish_earlier_events(exchange[1])
    feed.drop_slot(relay.slot("rabbitmq"))  # by hand: its position stays
    _history(products=1, adjustments=1)
    with pytest.raises(feed.FeedUnavailable, match="drop_feed_slot --consumer relay_rabbitmq"):
        relay.run()
    assert exchange[1]() == []


@pytest.mark.django_db(transaction=True)
def test_a_bulk_transaction_is_published_in_chunks_of_the_batch_size(exchange):
    _publish_earlier_events(exchange[1])
    with transaction.atomic():  # one commit: the slot hands its events over together
        _history(products=3, adjustments=3)
    chunks = []

    class Recording(brokers.RabbitMQ):
        def publish(self, envelopes):
            chunks.append(len(envelopes))
            super().publish(envelopes)

    sink = Recording(django_settings.RABBITMQ_URL, exchange[0])
    sink.open()
    try:
        assert relay._step(sink, 4) == (12, True)  # one step: the transaction's position is stored once
    finally:
        sink.close()
    assert chunks == [4, 4, 4]
    assert [body["type"] for _, _, body in exchange[1]()] == ["ProductCreated"] * 3 + ["StockAdjusted"] * 9


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_relay_killed_mid_stream_delivers_everything_at_least_once_in_order_per_product(exchange, manage):
    name, drain = exchange
    _history(products=5, adjustments=40)
    total = EventRecord.objects.count()
    env = {"RABBITMQ_EXCHANGE": name}
    first = manage("publish_events", "--follow", "--batch-size", "5", env=env)
    deadline = time.monotonic() + 60
    while relay.backlog() > total * 2 // 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert 0 < relay.backlog() < total, "the kill should land mid-stream"
    second = manage("publish_events", "--batch-size", "5", env=env)
    assert second.wait(timeout=120) == 0, second.stdout.read()
    assert relay.backlog() == 0

    messages = [body for _, _, body in drain()]
    # At least once: every event arrived; a consumer deduplicating by event id sees each once.
    seen, unique = set(), []
    for body in messages:
        if body["event_id"] not in seen:
            seen.add(body["event_id"])
            unique.append(body)
    assert seen == set(EventRecord.objects.values_list("id", flat=True))
    # At most the batch in flight at the kill again: confirmed, its position not yet committed.
    assert len(messages) - len(unique) <= 5
    # In order per product.
    by_product = {}
    for body in unique:
        by_product.setdefault(body["product_id"], []).append(body["event_id"])
    assert all(ids == sorted(ids) for ids in by_product.values())
    quantities = [b["data"]["product"]["quantity"] for b in unique if b["product_id"] == unique[-1]["product_id"]]
    assert quantities == sorted(quantities, reverse=True)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_relay_behind_shows_on_readiness_and_in_projection_lag_until_it_publishes(exchange, anon_client):
    _publish_earlier_events(exchange[1])
    _history(products=2, adjustments=1)

    def reported():
        ready = anon_client.get("/health/ready")
        assert ready.status_code == 200, ready.content  # a relay behind does not stop the API serving
        out = io.StringIO()
        call_command("projection_lag", stdout=out)
        return ready.json()["relays"], json.loads(out.getvalue())["relays"]

    on_ready, in_command = reported()
    assert on_ready == in_command
    assert list(on_ready) == ["rabbitmq"]  # the Kafka relay never ran: no position, no slot, not listed
    behind = on_ready["rabbitmq"]
    assert behind["events_behind"] == 4
    assert behind["slot"] == relay.slot("rabbitmq")
    assert behind["bytes_behind"] > 0

    call_command("publish_events", stdout=io.StringIO())
    assert len(exchange[1]()) == 4
    on_ready, in_command = reported()
    assert on_ready == in_command
    assert on_ready["rabbitmq"]["events_behind"] == 0
    # The slot acknowledged the published commits; only the WAL written since (the position's own update) is left.
    assert on_ready["rabbitmq"]["bytes_behind"] < behind["bytes_behind"]
