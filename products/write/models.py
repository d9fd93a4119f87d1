"""The write model: normalized tables that command handlers alone change, and the event log."""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

from products.events.stock import MAIN_LOCATION  # noqa: F401 (the default location, with the write model)
from products.patterns import LOCATION_CODE_PATTERN

MAX_QUANTITY = 1_000_000_000
MAX_PRICE_DIGITS = 10  # 99,999,999.99


class Category(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["slug"]

    def __str__(self):
        return self.name


class Location(models.Model):
    """A place stock is kept. Locations are never deleted; an inactive one is kept for its history."""

    code = models.CharField(max_length=32, unique=True, validators=[RegexValidator(LOCATION_CODE_PATTERN)])
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=LOCATION_CODE_PATTERN), name="location_code_format"),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True, default="")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=MAX_PRICE_DIGITS, decimal_places=2)
    # At or below it (the quantity summed over locations), the product is "low stock".
    reorder_point = models.IntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            # SKUs are unique regardless of case and never reused, archived products included.
            models.UniqueConstraint(Lower("sku"), name="product_sku_ci_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="product_version_positive"),
            models.CheckConstraint(condition=models.Q(reorder_point__gte=0), name="product_reorder_point_non_negative"),
        ]

    def __str__(self):
        return self.sku


class StockLevel(models.Model):
    """The quantity of a product at one location; a product's on-hand quantity is their sum.

    A row, once there, is never deleted (it shows the location once held the product).
    """

    # No index of its own: the unique (product, location) index starts with it.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="stock_product_location_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0) & models.Q(quantity__lte=MAX_QUANTITY),
                name="stock_quantity_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.product_id}@{self.location_id}: {self.quantity}"


class StockMovement(models.Model):
    """One row per stock change, never updated or deleted: the stock ledger."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField()
    quantity_after = models.IntegerField()  # at that location
    reason = models.CharField(max_length=200, blank=True, default="")
    reference = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (null = none given)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["product", "-id"], name="movement_product_newest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_after__gte=0), name="movement_quantity_after_non_negative"
            ),
        ]

    def __str__(self):
        return f"{self.product_id} {self.delta:+d} -> {self.quantity_after}"


class Reservation(models.Model):
    """Stock held for a customer during checkout, until it is committed, released, or lapses.

    From ``expires_at`` on it holds nothing, whether or not ``expire_reservations`` has run
    (its lines' holds count only while ``held_until`` is in the future); the job records the
    lapse as ``expired``.
    """

    class Status(models.TextChoices):
        ACTIVE = "active"
        COMMITTED = "committed"
        RELEASED = "released"
        EXPIRED = "expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    reference = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (null = none given)
    expires_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)  # grows with every change: read rows never go back
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            # expire_reservations: the active ones whose time is up, oldest first.
            models.Index(fields=["expires_at"], condition=models.Q(status="active"), name="reservation_active_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "committed", "released", "expired"]),
                name="reservation_status_known",
            ),
        ]

    def __str__(self):
        return f"{self.id} ({self.status})"


class ReservationLine(models.Model):
    """A quantity of one product at one location that a reservation holds.

    ``held_until`` is the hold: the reservation's expiry while it is active, NULL once it was
    committed, released or expired. What a (product, location) has available is its
    quantity less the lines held there until a moment still to come.
    """

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity = models.IntegerField()
    held_until = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            # What is held at a (product, location): the lines still holding, by an index lookup.
            models.Index(
                fields=["product", "location", "held_until"],
                condition=models.Q(held_until__isnull=False),
                name="reservation_line_held",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "product", "location"], name="reservation_line_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1) & models.Q(quantity__lte=MAX_QUANTITY),
                name="reservation_line_quantity_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.reservation_id}: {self.quantity} of {self.product_id}@{self.location_id}"


class CurrentXactId(models.Func):
    """The id of the current transaction, as a bigint (PostgreSQL's ``pg_current_xact_id()``)."""

    template = "pg_current_xact_id()::text::bigint"
    output_field = models.BigIntegerField()


class EventRecord(models.Model):
    """Every domain event, appended in the transaction of the command that emitted it.

    The log is the audit trail, the outbox that ``publish_events`` relays to its broker, and
    the feed of the projector worker in split mode. Appends take no lock: each row records
    the id of its transaction (``xact_id``); the worker and the relays read the log through
    logical decoding (see ``products.write.event_log``).
    """

    id = models.BigAutoField(primary_key=True)
    xact_id = models.BigIntegerField(db_default=CurrentXactId(), editable=False)
    type = models.CharField(max_length=100)
    product_id = models.UUIDField(null=True, db_index=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "products_event"
        indexes = [models.Index(fields=["xact_id", "id"], name="event_log_order")]

    def __str__(self):
        return f"#{self.id} {self.type}"


class RelayPosition(models.Model):
    """How far the relay to one broker (``name``: rabbitmq, kafka) has published the event feed.

    Each broker has its own slot (``products.events.feed``) and its own position, so relays
    to RabbitMQ and Kafka each publish every event. The position is the feed's
    (``feed.next_events``): the snapshot it started from, the last event it published of
    those the snapshot saw, in (xact_id, id) order, then the LSN of the last commit it
    published from the slot. It moves in the transaction that read the batch, after the
    broker's acknowledgement; the slot is advanced after that commit.
    """

    name = models.CharField(max_length=20, primary_key=True)
    last_xact_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    snapshot = models.TextField(blank=True, default="")  # empty: starts from a new one
    caught_up = models.BooleanField(default=False)  # on what the snapshot saw: then the slot
    lsn = models.BigIntegerField(default=0)
    highest_event_id = models.BigIntegerField(default=0)  # the highest id published: the backlog's line
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name}: #{self.highest_event_id}"


class Deployment(models.Model):
    """The mode this write database serves, recorded by the first process that checks it.

    One row: ``single`` (the read tables live beside the write tables) or ``split`` with the
    identity of the read database its event log feeds. Every API process compares its own
    settings with it (``products.write.deployment``), so two modes never serve one write database.
    """

    MODES = [("single", "single"), ("split", "split")]

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    mode = models.CharField(max_length=6, choices=MODES)
    # Split mode: "<system identifier>/<database name>" of the read database, as PostgreSQL tells them.
    read_store = models.CharField(max_length=200, blank=True, default="")
    # Split mode: where the recording process found it ("inventory_read on read-db:5432"), for messages.
    read_store_label = models.CharField(max_length=300, blank=True, default="")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="deployment_one_row"),
            models.CheckConstraint(
                condition=models.Q(mode="single", read_store="") | (models.Q(mode="split") & ~models.Q(read_store="")),
                name="deployment_split_names_its_read_store",
            ),
        ]

    def __str__(self):
        return self.mode if self.mode == "single" else f"split: {self.read_store_label}"
