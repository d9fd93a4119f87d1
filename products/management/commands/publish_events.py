"""``manage.py publish_events [--follow]``: relay the event log to RabbitMQ."""

import pika
from django.core.management.base import BaseCommand, CommandError

from products.management.stopping import stop_requested
from products.write import relay


class Command(BaseCommand):
    help = (
        "Relay the event log (outbox) to the RabbitMQ topic exchange RABBITMQ_EXCHANGE, routing key = "
        "event type, with publisher confirms. --follow keeps relaying and rides out broker outages."
    )

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true", help="Keep running and relay new events.")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument("--poll-interval", type=float, default=0.5)

    def handle(self, *args, follow, batch_size, poll_interval, **options):
        should_stop = stop_requested()
        try:
            total = relay.run(
                follow=follow,
                batch_size=batch_size,
                poll_interval=poll_interval,
                on_batch=lambda published, total: self.stdout.write(f"published {published} events ({total} in all)"),
                should_stop=should_stop,
            )
        except (pika.exceptions.AMQPError, OSError) as error:
            raise CommandError(
                f"RabbitMQ unavailable ({type(error).__name__}); {relay.backlog()} events wait."
            ) from error
        self.stdout.write(self.style.SUCCESS(f"Published {total} events; {relay.backlog()} waiting."))
