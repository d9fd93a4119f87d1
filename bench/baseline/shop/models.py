"""The baseline's normalized tables: what a typical DRF project would write."""

from django.conf import settings
from django.db import models


class Category(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self):
        return self.sku

    @property
    def in_stock(self):
        return self.quantity > 0


class StockMovement(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="movements")
    delta = models.IntegerField()
    quantity_after = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    def __str__(self):
        return f"{self.product_id} {self.delta:+d}"


class Reservation(models.Model):
    """Units held for an order until it is committed (they leave the stock) or expires."""

    ACTIVE = "active"
    COMMITTED = "committed"
    STATUSES = [(ACTIVE, "active"), (COMMITTED, "committed")]

    reference = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=20, choices=STATUSES, default=ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)

    def __str__(self):
        return f"{self.pk} {self.status}"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservation_lines")
    location = models.CharField(max_length=64, default="main")
    quantity = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.product_id} x{self.quantity}"
