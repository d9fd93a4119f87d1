"""The AsyncAPI 3.0 document of the events, built from their declarations (``products.events.schema``).

``manage.py asyncapi --file docs/asyncapi.yaml`` writes it; CI regenerates it and compares
(``.ci/check-asyncapi``), so the committed document cannot drift from the declarations.
One message per event type, named as the type, with its headers, its Kafka key and its body
(the envelope around its payload); the RabbitMQ exchange and the Kafka topic carry the same
messages.
"""

from products.events import EVENT_TYPES
from products.events import schema as event_schema

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING = "0.3.0"
KAFKA_BINDING = "0.5.0"
CONTENT_TYPE = "application/json"

_DESCRIPTION = """\
Every change the inventory service makes is appended to its event log, in the command's
transaction, and relayed from there (an outbox): at least once, in log order, so a product's
events arrive in order. Each message is one event: JSON, `content_type: application/json`;
its headers repeat the body's `event_id` (as `id`), `type` and `schema_version`. A consumer
drops duplicates by the event id and checks `schema_version`: fields may be added to a payload
within a version, never removed or renamed. Generated from the event declarations
(`products/events/`) by `manage.py asyncapi`; do not edit by hand.
"""

_AMQP_DESCRIPTION = """\
The durable topic exchange `RABBITMQ_EXCHANGE` that `manage.py publish_events` relays the log
to, with publisher confirms. The routing key is the event type: bind a queue with `#` for
every event, or with types such as `StockAdjusted`. The AMQP `message_id` is the event id,
the AMQP `type` the event type; messages are persistent.
"""

_KAFKA_DESCRIPTION = """\
The Kafka topic `KAFKA_TOPIC` that `manage.py publish_events --broker kafka` relays the log
to, with the idempotent producer and `acks=all`. The record key is the event's aggregate key
(the product's id, or for an event without a product its category's slug, location's code,
reservation's id, or a transfer's `from_location`: each message's Kafka binding names it), so
an aggregate's events stay in one partition, in log order. The record headers `id`, `type`
and `schema_version` carry the message headers as UTF-8 text (`id` = `"1042"`); the value is
the same JSON body as on RabbitMQ (the outbox event router's shape).
"""


def _prose(text):
    # One line per paragraph: Markdown reflows it anyway, and the YAML stays readable.
    return " ".join(text.split())


def _messages():
    messages = {}
    for event_type in EVENT_TYPES:
        name = event_type.__name__
        messages[name] = {
            "name": name,
            "title": name,
            "summary": event_schema.description_of(event_type),
            "contentType": CONTENT_TYPE,
            "headers": event_schema.headers_schema(event_type),
            "payload": event_schema.envelope_schema(event_type),
            "bindings": {
                "amqp": {"messageType": name, "bindingVersion": AMQP_BINDING},
                "kafka": {"key": event_schema.key_schema(event_type), "bindingVersion": KAFKA_BINDING},
            },
        }
    return messages


def _channel_messages():
    return {event_type.__name__: {"$ref": f"#/components/messages/{event_type.__name__}"} for event_type in EVENT_TYPES}


def _operation(channel, description):
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": description,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{event_type.__name__}"} for event_type in EVENT_TYPES],
    }


def _server(protocol, default_host, description, **more):
    # The host is a variable: each deployment has its own (RABBITMQ_URL's, the Kafka brokers').
    return {
        "host": "{host}",
        "protocol": protocol,
        **more,
        "description": description,
        "variables": {"host": {"default": default_host, "description": "host:port"}},
    }


def document(*, exchange, topic):
    """Return the AsyncAPI document of the events published to ``exchange`` and ``topic``."""
    shapes = event_schema.shapes_of(EVENT_TYPES)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Product inventory events", "version": "1.0.0", "description": _prose(_DESCRIPTION)},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "rabbitmq": _server("amqp", "localhost:5672", "The broker of RABBITMQ_URL.", protocolVersion="0.9.1"),
            "kafka": _server("kafka", "localhost:9092", "The Kafka brokers of KAFKA_BOOTSTRAP_SERVERS."),
        },
        "channels": {
            "rabbitmq": {
                "address": exchange,
                "title": "RabbitMQ exchange",
                "description": _prose(_AMQP_DESCRIPTION),
                "servers": [{"$ref": "#/servers/rabbitmq"}],
                "messages": _channel_messages(),
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": exchange,
                            "type": "topic",
                            "durable": True,
                            "autoDelete": False,
                            "vhost": "/",
                        },
                        "bindingVersion": AMQP_BINDING,
                    }
                },
            },
            "kafka": {
                "address": topic,
                "title": "Kafka topic",
                "description": _prose(_KAFKA_DESCRIPTION),
                "servers": [{"$ref": "#/servers/kafka"}],
                "messages": _channel_messages(),
                "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING}},
            },
        },
        "operations": {
            "publishToRabbitMQ": _operation("rabbitmq", "The relay publishes each event of the log, in log order."),
            "publishToKafka": _operation("kafka", "The relay publishes each event of the log, in log order."),
        },
        "components": {
            "messages": _messages(),
            "schemas": {name: event_schema.shape_schema(shape) for name, shape in shapes.items()},
        },
    }
