"""``manage.py drop_feed_slot [--consumer NAME]``: drop a consumer's replication slot on the write database."""

from django.core.management.base import BaseCommand

from products.events import feed
from products.read.lag import PROJECTOR_CONSUMER
from products.write import brokers, relay
from products.write.models import RelayPosition


class Command(BaseCommand):
    help = (
        "Drop the replication slot through which a consumer reads the event log (default: the split-mode "
        "worker's; a relay's: relay_rabbitmq, relay_kafka). The server keeps the WAL a slot has not "
        "acknowledged, so a consumer taken away must have its slot dropped. A worker whose slot was dropped "
        "refuses to go on until its read store is rebuilt (`manage.py rebuild_read_models`); a relay's "
        "position is dropped with its slot, so a relay started again publishes the whole log, at least once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--consumer", default=PROJECTOR_CONSUMER, help="The consumer's name (default: %(default)s)."
        )

    def handle(self, *args, consumer, **options):
        slot = feed.slot_name(consumer)
        if feed.drop_slot(slot):
            self.stdout.write(self.style.SUCCESS(f"Dropped the replication slot {slot}."))
        else:
            self.stdout.write(f"No replication slot {slot} on this database: nothing to drop.")
        relays = {relay.consumer(broker): broker for broker in brokers.BROKERS}
        if consumer in relays and RelayPosition.objects.filter(name=relays[consumer]).delete()[0]:
            self.stdout.write(f"Dropped the {relays[consumer]} relay's position.")
