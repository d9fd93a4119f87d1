"""The app's wiring: every command, query and event registered on the bus at start-up."""

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_started

from cqrs_demo.db_connections import close_dead_connections


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Product inventory"

    def ready(self):
        """Register the handlers and the event table (none may be missing); drop dead connections per request."""
        from cqrs_demo.bus import bus
        from products.events import in_statement
        from products.read import projections, projector, queries
        from products.write import commands

        for handlers in (commands.HANDLERS, queries.HANDLERS):
            for message_type, handler in handlers.items():
                bus.register(message_type, handler)
        # In split mode the read store is fed from the event log by `project_events` instead.
        single = settings.CQRS_MODE == "single"
        bus.subscribe(projector.EVENT_HANDLERS if single else projector.SPLIT_MODE_EVENT_HANDLERS)
        # The steps a command's own statement includes to project its events (when it projects them).
        in_statement.register(projections.IN_STATEMENT)
        bus.check_complete()
        request_started.connect(close_dead_connections, dispatch_uid="close_dead_connections")
