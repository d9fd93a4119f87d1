"""The Django admin for the write side. Every change goes through the command handlers,
so the read tables and the stock ledger stay right; stock is never edited directly."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from cqrs_demo.bus import bus
from products.errors import DomainError
from products.write import commands
from products.write.models import MAX_QUANTITY, Category, Location, Product, Reservation, ReservationLine, StockMovement

# The API's permission for every stock change; the admin asks for the same one.
STOCK_PERMISSION = "products.change_stocklevel"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "updated_at")
    search_fields = ("slug", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("slug", "created_at", "updated_at") if obj else ("created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if change:
            bus.dispatch(commands.RenameCategory(slug=obj.slug, name=obj.name))
        else:
            bus.dispatch(commands.CreateCategory(slug=obj.slug, name=obj.name))
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "created_at", "updated_at") if obj else ("is_active", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if change:
            bus.dispatch(commands.ChangeLocation(code=obj.code, name=obj.name, is_active=obj.is_active))
        else:
            bus.dispatch(commands.CreateLocation(code=obj.code, name=obj.name))
            obj.pk = Location.objects.values_list("pk", flat=True).get(code=obj.code)
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False  # a location is never deleted; make it inactive


class ProductAdminForm(forms.ModelForm):
    stock_delta = forms.IntegerField(
        required=False,
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Add (or, negative, remove) this many units; recorded in the stock ledger.",
    )
    stock_reason = forms.CharField(required=False, max_length=200)

    class Meta:
        model = Product
        fields = ("sku", "name", "description", "category", "price")


class ProductDetailsAdminForm(ProductAdminForm):
    """The product form of a user without ``change_stocklevel``: no stock fields.

    A stock change posted anyway (from a form opened before the permission was withdrawn,
    or crafted) refuses the whole save, rather than saving the details and dropping it.
    """

    stock_delta = None
    stock_reason = None

    def clean(self):
        cleaned_data = super().clean()
        if self.data.get(self.add_prefix("stock_delta"), "").strip() not in ("", "0"):
            raise ValidationError(
                f"You may not change stock (that needs the permission {STOCK_PERMISSION}); nothing was saved.",
                code="permission_denied",
            )
        return cleaned_data


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    fields = ("created_at", "location", "delta", "quantity_after", "reason", "reference", "created_by")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "category", "price", "quantity", "version", "is_archived")
    list_filter = ("is_archived", "category")
    search_fields = ("sku", "name")
    list_select_related = ("category",)
    inlines = (StockMovementInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total_quantity=Sum("stock_levels__quantity", default=0))

    @admin.display(description="quantity")
    def quantity(self, obj):
        return obj.total_quantity  # summed over locations

    def get_readonly_fields(self, request, obj=None):
        return ("sku", "quantity", "version", "is_archived") if obj else ()

    def get_form(self, request, obj=None, **kwargs):
        # The declared stock fields stay in a form whatever ``fields`` says: leave them out by class.
        if not request.user.has_perm(STOCK_PERMISSION):
            kwargs["form"] = ProductDetailsAdminForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        category = data["category"].slug if data.get("category") else None
        if change:
            # The form has validated the SKU (case-insensitive unique constraint) and category.
            bus.dispatch(
                commands.UpdateProductDetails(
                    product_id=obj.pk,
                    name=data["name"],
                    description=data["description"],
                    category=category,
                    price=data["price"],
                ),
            )
        else:
            obj.pk = bus.dispatch(
                commands.CreateProduct(
                    sku=data["sku"],
                    name=data["name"],
                    description=data["description"],
                    category=category,
                    price=data["price"],
                    actor_id=request.user.pk,
                ),
            )["id"]
        if data.get("stock_delta") and request.user.has_perm(STOCK_PERMISSION):
            try:
                bus.dispatch(
                    commands.AdjustStock(
                        product_id=obj.pk,
                        delta=data["stock_delta"],
                        reason=data.get("stock_reason") or "admin",
                        actor_id=request.user.pk,
                    )
                )
            except DomainError as error:
                messages.error(request, f"Stock not changed: {error.message}")
        obj.refresh_from_db()

    def get_deleted_objects(self, objs, request):
        # "Deleting" archives: the ledger rows that PROTECT a product are kept, so nothing blocks it.
        return [str(obj) for obj in objs], {Product._meta.verbose_name_plural: len(objs)}, set(), []

    def delete_model(self, request, obj):
        bus.dispatch(commands.ArchiveProduct(product_id=obj.pk))

    def delete_queryset(self, request, queryset):
        for product_id in queryset.filter(is_archived=False).values_list("pk", flat=True):
            bus.dispatch(commands.ArchiveProduct(product_id=product_id))


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ("created_at", "product", "location", "delta", "quantity_after", "reason", "created_by")
    list_select_related = ("product", "location", "created_by")
    search_fields = ("product__sku", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ("product", "location", "quantity", "held_until")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


def _end_each(request, queryset, command, done, **fields):
    """Run ``command`` for each selected reservation; report what was done and what was refused."""
    ended = 0
    for reservation_id in queryset.values_list("pk", flat=True):
        try:
            bus.dispatch(command(reservation_id=reservation_id, **fields))
            ended += 1
        except DomainError as error:
            messages.error(request, f"{reservation_id}: {error.message}")
    if ended:
        messages.success(request, f"{ended} reservation(s) {done}.")


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    """Reservations are placed through the API; here they are read, committed or released."""

    list_display = ("id", "shown_status", "reference", "expires_at", "created_at")
    list_filter = ("status",)
    search_fields = ("reference", "id")
    readonly_fields = ("id", "status", "reference", "expires_at", "version", "created_at", "updated_at", "created_by")
    inlines = (ReservationLineInline,)
    actions = ("commit", "release")

    @admin.display(description="status", ordering="status")
    def shown_status(self, obj):
        # As the API shows it: an active one whose time is up holds nothing.
        if obj.status == Reservation.Status.ACTIVE and obj.expires_at <= timezone.now():
            return Reservation.Status.EXPIRED
        return obj.status

    @admin.action(description="Commit the selected reservations (the stock leaves)", permissions=["change"])
    def commit(self, request, queryset):
        _end_each(request, queryset, commands.CommitReservation, "committed", actor_id=request.user.pk)

    @admin.action(description="Release the selected reservations", permissions=["change"])
    def release(self, request, queryset):
        _end_each(request, queryset, commands.ReleaseReservation, "released")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
