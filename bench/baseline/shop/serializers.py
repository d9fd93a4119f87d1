from rest_framework import serializers

from bench.baseline.shop.models import Category, Product


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    category_id = serializers.PrimaryKeyRelatedField(
        source="category", queryset=Category.objects.all(), write_only=True, required=False, allow_null=True
    )
    in_stock = serializers.BooleanField(read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "category",
            "category_id",
            "price",
            "quantity",
            "in_stock",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["quantity"]


class StockChangeSerializer(serializers.Serializer):
    delta = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
