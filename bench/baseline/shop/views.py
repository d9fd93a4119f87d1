import datetime

import django_filters
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bench.baseline.shop.models import Category, Product, Reservation, ReservationLine, StockMovement
from bench.baseline.shop.serializers import (
    CategorySerializer,
    ProductSerializer,
    ReservationSerializer,
    StockChangeSerializer,
)


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = ["category", "min_price", "max_price"]


class CategoryViewSet(viewsets.ModelViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer


class ProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.select_related("category")
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "description"]
    ordering_fields = ["sku", "name", "price", "quantity", "created_at"]

    @action(detail=True, methods=["post"])
    def stock(self, request, pk=None):
        change = StockChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        delta = change.validated_data["delta"]
        with transaction.atomic():
            product = Product.objects.select_for_update().get(pk=pk)
            if product.quantity + delta < 0:
                return Response({"detail": "Insufficient stock."}, status=status.HTTP_409_CONFLICT)
            product.quantity += delta
            product.save()
            StockMovement.objects.create(
                product=product,
                delta=delta,
                quantity_after=product.quantity,
                reason=change.validated_data["reason"],
                created_by=request.user,
            )
        return Response(ProductSerializer(product).data)


class ReservationViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reserve stock for an order in one transaction, then commit it: the usual select_for_update way.

    Reserve locks the lines' products in id order, sums the units held by active, unexpired
    reservations of those products, and refuses with 409 when one line is short. Commit locks the
    reservation, then its products in id order, takes the units off the stock with a ledger row
    each, and marks the reservation committed.
    """

    queryset = Reservation.objects.prefetch_related("lines__product")
    serializer_class = ReservationSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = {}
        for line in serializer.validated_data["lines"]:
            wanted[line["product"].pk] = wanted.get(line["product"].pk, 0) + line["quantity"]
        now = timezone.now()
        with transaction.atomic():
            products = {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
            held = dict(
                ReservationLine.objects.filter(
                    product_id__in=wanted, reservation__status=Reservation.ACTIVE, reservation__expires_at__gt=now
                )
                .values_list("product_id")
                .annotate(Sum("quantity"))
            )
            short = [
                {"product": pk, "location": "main", "requested": quantity, "available": available}
                for pk, quantity in sorted(wanted.items())
                if (available := products[pk].quantity - held.get(pk, 0)) < quantity
            ]
            if short:
                return Response({"code": "insufficient_stock", "lines": short}, status=status.HTTP_409_CONFLICT)
            expires_at = now + datetime.timedelta(seconds=serializer.validated_data["expires_in"])
            reservation = serializer.save(created_by=request.user, expires_at=expires_at)
        location = f"/api/reservations/{reservation.pk}/"
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers={"Location": location})

    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        with transaction.atomic():
            reservation = get_object_or_404(Reservation.objects.select_for_update(), pk=pk)
            if reservation.status != Reservation.ACTIVE:
                return Response({"code": "not_active"}, status=status.HTTP_409_CONFLICT)
            if reservation.expires_at <= timezone.now():
                return Response({"code": "expired"}, status=status.HTTP_409_CONFLICT)
            lines = list(reservation.lines.all())
            products = Product.objects.select_for_update().filter(pk__in=[line.product_id for line in lines])
            products = {p.pk: p for p in products.order_by("pk")}
            for line in lines:
                product = products[line.product_id]
                if product.quantity < line.quantity:
                    return Response({"code": "insufficient_stock"}, status=status.HTTP_409_CONFLICT)
                product.quantity -= line.quantity
                product.save()
                StockMovement.objects.create(
                    product=product,
                    delta=-line.quantity,
                    quantity_after=product.quantity,
                    reason=f"reservation {reservation.pk}",
                    created_by=request.user,
                )
            reservation.status = Reservation.COMMITTED
            reservation.save()
        return Response(self.get_serializer(self.get_queryset().get(pk=reservation.pk)).data)
