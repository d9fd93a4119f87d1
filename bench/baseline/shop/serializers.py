from rest_framework import serializers

from bench.baseline.shop.models import Category, Product, Reservation, ReservationLine


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


class ReservationLineSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    sku = serializers.CharField(source="product.sku", read_only=True)
    location = serializers.ChoiceField(choices=["main"], default="main")
    quantity = serializers.IntegerField(min_value=1)

    class Meta:
        model = ReservationLine
        fields = ["product", "sku", "location", "quantity"]


class ReservationSerializer(serializers.ModelSerializer):
    lines = ReservationLineSerializer(many=True)
    expires_in = serializers.IntegerField(write_only=True, min_value=1, max_value=86400, default=900)

    class Meta:
        model = Reservation
        fields = ["id", "status", "reference", "expires_in", "expires_at", "created_at", "lines"]
        read_only_fields = ["status", "expires_at", "created_at"]

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError("At least one line.")
        keys = [(line["product"].pk, line["location"]) for line in lines]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("One line per product and location.")
        return lines

    def create(self, validated_data):
        lines = validated_data.pop("lines")
        validated_data.pop("expires_in")
        reservation = Reservation.objects.create(**validated_data)
        for line in lines:
            ReservationLine.objects.create(reservation=reservation, **line)
        return reservation
