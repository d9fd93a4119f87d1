import django_filters
from django.db import transaction
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bench.baseline.shop.models import Category, Product, StockMovement
from bench.baseline.shop.serializers import CategorySerializer, ProductSerializer, StockChangeSerializer


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
