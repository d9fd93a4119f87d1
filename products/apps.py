from django.apps import AppConfig
from django.conf import settings


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Product inventory"

    def ready(self):
        """Register the command and query handlers; connect the projector in single-database mode."""
        from cqrs_demo.bus import bus
        from products import commands, projections, queries

        for handlers in (commands.HANDLERS, queries.HANDLERS):
            for message_type, handler in handlers.items():
                bus.register(message_type, handler)
        bus.check_complete()
        # In split mode the read store is fed from the event log by `project_events` instead.
        if settings.CQRS_MODE == "single":
            projections.connect()
