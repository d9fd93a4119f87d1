"""``manage.py publish_events [--broker rabbitmq|kafka] [--follow]``: relay the event log to a broker."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from products.events import feed
from products.management.stopping import stop_requested
from products.write import brokers, relay


class Command(BaseCommand):
    help = (
        "Relay the event log (outbox) to a broker, in commit order through a replication slot per broker "
        "(drop_feed_slot --consumer relay_<broker> when a relay is taken away), each event once its broker "
        "confirmed the one before: "
        "RabbitMQ (the default; the topic exchange RABBITMQ_EXCHANGE, routing key = event type, publisher "
        "confirms) or Kafka (the topic KAFKA_TOPIC on KAFKA_BOOTSTRAP_SERVERS, key = the product's id, "
        "idempotent producer). --follow keeps relaying and rides out broker outages."
    )

    def add_arguments(self, parser):
        parser.add_argument("--broker", choices=brokers.BROKERS, default="rabbitmq", help="Where to publish.")
        parser.add_argument("--follow", action="store_true", help="Keep running and relay new events.")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--poll-interval", type=float, default=0.5)

    def handle(self, *args, broker, follow, batch_size, poll_interval, **options):
        should_stop = stop_requested()
        try:
            total = relay.run(
                broker,
                follow=follow,
                batch_size=batch_size,
                poll_interval=poll_interval,
                on_batch=lambda published, total: self.stdout.write(f"published {published} events ({total} in all)"),
                should_stop=should_stop,
            )
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        except feed.FeedUnavailable as unavailable:
            raise CommandError(str(unavailable)) from None
        except brokers.Unavailable as error:
            raise CommandError(f"{error}; {relay.backlog(broker)} events wait.") from error
        self.stdout.write(self.style.SUCCESS(f"Published {total} events to {broker}; {relay.backlog(broker)} waiting."))
