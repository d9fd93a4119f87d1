from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "products"
    verbose_name = "Product inventory"

    def ready(self):
        """Register the command and query handlers and connect the projector's receivers."""
        from cqrs_demo.bus import bus
        from products import commands, projections, queries  # noqa: F401 (projections connects receivers)

        for handlers in (commands.HANDLERS, queries.HANDLERS):
            for message_type, handler in handlers.items():
                bus.register(message_type, handler)
        bus.check_complete()
