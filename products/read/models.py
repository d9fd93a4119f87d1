"""The read model: denormalized tables written only by the projector.

Each row carries everything one API representation needs, so a read is one query over
one table. Their columns, and how each follows from the write tables, are defined once in
``products.read.tables``; the rows can always be rebuilt from the write tables.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class ProductView(models.Model):
    """One row per active (not archived) product."""

    id = models.UUIDField(primary_key=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField()
    category_slug = models.CharField(max_length=100, null=True)  # noqa: DJ001 (null = no category)
    category_name = models.CharField(max_length=100, null=True)  # noqa: DJ001
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.BigIntegerField()  # summed over locations: may pass what one location holds
    reorder_point = models.IntegerField()
    version = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "read_product"
        managed = True
        # Each keyset ordering has its own (column, id) index, so page N costs what page 1 does.
        indexes = [
            models.Index(fields=["sku", "id"], name="read_product_sku"),
            models.Index(fields=["name", "id"], name="read_product_name"),
            models.Index(fields=["price", "id"], name="read_product_price"),
            models.Index(fields=["quantity", "id"], name="read_product_quantity"),
            models.Index(fields=["created_at", "id"], name="read_product_created"),
            models.Index(fields=["category_slug", "sku", "id"], name="read_product_cat_sku"),
            models.Index(fields=["category_slug", "price", "id"], name="read_product_cat_price"),
        ]

    def __str__(self):
        return self.sku


class ProductSearchView(models.Model):
    """The search document of each active product (``tsvector``, configuration ``simple``)."""

    id = models.UUIDField(primary_key=True)
    search_document = SearchVectorField()

    class Meta:
        db_table = "read_product_search"
        indexes = [GinIndex(fields=["search_document"], name="read_search_document")]

    def __str__(self):
        return str(self.id)


class StockMovementView(models.Model):
    """One row per ledger entry of an active product."""

    id = models.BigIntegerField(primary_key=True)
    product_id = models.UUIDField()
    delta = models.IntegerField()
    location = models.CharField(max_length=32)
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=200)
    reference = models.CharField(max_length=200, null=True)  # noqa: DJ001
    created_at = models.DateTimeField()

    class Meta:
        db_table = "read_stock_movement"
        indexes = [models.Index(fields=["product_id", "-id"], name="read_movement_product")]

    def __str__(self):
        return f"{self.product_id} {self.delta:+d}"


class StockLevelView(models.Model):
    """One row per location that ever held an active product."""

    key = models.CharField(max_length=80, primary_key=True)  # "<product id>:<location code>"
    product_id = models.UUIDField()
    location = models.CharField(max_length=32)
    quantity = models.IntegerField()

    class Meta:
        db_table = "read_stock_level"
        indexes = [
            models.Index(fields=["product_id", "location"], name="read_stock_level_product"),
            # The list's `location` filter: the products with stock there, without a scan.
            models.Index(
                fields=["location", "product_id"], condition=models.Q(quantity__gt=0), name="read_stock_level_held"
            ),
        ]

    def __str__(self):
        return self.key


class ReservationView(models.Model):
    """One row per reservation, its lines included.

    ``status`` is the write side's; a read shows an ``active`` one whose ``expires_at`` has
    passed as ``expired`` (see ``products.read.tables.RESERVATIONS``).
    """

    id = models.UUIDField(primary_key=True)
    status = models.CharField(max_length=10)
    reference = models.CharField(max_length=200, null=True)  # noqa: DJ001
    expires_at = models.DateTimeField()
    lines = models.JSONField()  # [{"product", "sku", "location", "quantity"}]
    version = models.IntegerField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "read_reservation"
        # Newest first, and newest first within a reference.
        indexes = [
            models.Index(fields=["created_at", "id"], name="read_reservation_created"),
            models.Index(fields=["reference", "created_at", "id"], name="read_reservation_reference"),
        ]

    def __str__(self):
        return str(self.id)


class StockHoldView(models.Model):
    """One row per line of a reservation that holds stock (until ``expires_at``).

    What a product has reserved is the sum of its rows whose ``expires_at`` is still to come,
    counted when it is read: a hold stops counting when it lapses, with no job.
    """

    key = models.CharField(max_length=120, primary_key=True)  # "<reservation>:<product>:<location>"
    reservation_id = models.UUIDField()
    product_id = models.UUIDField()
    location = models.CharField(max_length=32)
    quantity = models.IntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "read_stock_hold"
        indexes = [
            models.Index(fields=["product_id", "location", "expires_at"], name="read_stock_hold_product"),
            models.Index(fields=["reservation_id"], name="read_stock_hold_reservation"),
        ]

    def __str__(self):
        return self.key


class CategoryView(models.Model):
    """One row per category."""

    slug = models.CharField(max_length=100, primary_key=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "read_category"

    def __str__(self):
        return self.slug


class LocationView(models.Model):
    """One row per location."""

    code = models.CharField(max_length=32, primary_key=True)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "read_location"

    def __str__(self):
        return self.code


class ProjectorPosition(models.Model):
    """Where a projector is in the event feed (``products.events.feed``), stored with the rows it produced."""

    name = models.CharField(max_length=50, primary_key=True)
    # The snapshot of the write database this position started from: the events it saw are
    # read from the table, in (xact_id, id) order, up to (last_xact_id, last_event_id) so far,
    # until caught_up; the slot's transactions it saw are skipped.
    snapshot = models.TextField(default="", blank=True)
    last_xact_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    caught_up = models.BooleanField(default=False)
    # The end of the last commit applied from the slot: what is at or below it was applied.
    lsn = models.BigIntegerField(default=0)
    highest_event_id = models.BigIntegerField(default=0)  # the highest id applied, for the lag
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "read_projector_position"

    def __str__(self):
        return f"{self.name}@{self.last_event_id}"


PROJECTOR_POSITION = "read_store"  # the ProjectorPosition row of the split-mode worker
PROJECTOR_CONSUMER = "projector"  # its name in the event feed: its slot's (``products.events.feed.slot_name``)
