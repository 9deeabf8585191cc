from rest_framework import serializers

from inventory.models import Category, FlashSale, Order, OrderLine, Product


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]


class ProductSerializer(serializers.ModelSerializer):
    category = CategorySerializer(read_only=True)
    image_url = serializers.SerializerMethodField()
    free = serializers.IntegerField(
        read_only=True, allow_null=True, default=None, help_text="Units free at ?branch="
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "category",
            "kind",
            "price",
            "currency",
            "tax_rate",
            "image_url",
            "free",
        ]

    def get_image_url(self, product) -> str | None:
        return product.image.url if product.image else None


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product",
            "description",
            "quantity",
            "unit_price",
            "tax_rate",
            "subtotal",
            "tax_amount",
            "line_total",
            "returned_quantity",
        ]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "channel",
            "status",
            "payment",
            "branch",
            "branch_name",
            "flash_sale",
            "subtotal",
            "tax_total",
            "total",
            "currency",
            "expires_at",
            "created_at",
            "paid_at",
            "collected_at",
            "invoice_id",
            "lines",
        ]


class HeldOrderSerializer(serializers.ModelSerializer):
    """The short answer to a flash-sale purchase: what was reserved and until when."""

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "status",
            "branch",
            "flash_sale",
            "total",
            "currency",
            "expires_at",
        ]


class ItemSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class CartSetSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=0, max_value=1000)


class CartItemOutSerializer(serializers.Serializer):
    product = ProductSerializer()
    quantity = serializers.IntegerField()


class OrderCreateSerializer(serializers.Serializer):
    branch = serializers.IntegerField(min_value=1)
    items = ItemSerializer(many=True, required=False, help_text="Omit to order the cart.")


class BuySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    branch = serializers.IntegerField(
        min_value=1, required=False, help_text="Pickup branch (sales at every branch only)."
    )


class FlashSaleSerializer(serializers.ModelSerializer):
    product = ProductSerializer(read_only=True)
    remaining = serializers.IntegerField(source="live_remaining", read_only=True)

    class Meta:
        model = FlashSale
        fields = [
            "id",
            "title",
            "product",
            "branch",
            "sale_price",
            "currency",
            "starts_at",
            "ends_at",
            "quantity",
            "remaining",
            "per_member_limit",
            "hold_minutes",
        ]

    currency = serializers.CharField(source="product.currency", read_only=True)


class FlashSaleStateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="sale.id")
    status = serializers.ChoiceField(choices=["scheduled", "open", "sold_out", "closed"])
    remaining = serializers.IntegerField()
    quantity = serializers.IntegerField(source="sale.quantity")
    opens_in_seconds = serializers.IntegerField()
    closes_in_seconds = serializers.IntegerField()


class PosSaleSerializer(serializers.Serializer):
    branch = serializers.IntegerField(min_value=1)
    items = ItemSerializer(many=True)
    member = serializers.IntegerField(min_value=1, required=False)
    payment = serializers.ChoiceField(choices=["paid_now", "account"], default="paid_now")
    provider = serializers.CharField(default="manual", max_length=30)
    reference = serializers.CharField(default="", allow_blank=True, max_length=100)
    customer_name = serializers.CharField(default="", allow_blank=True, max_length=150)
    customer_email = serializers.EmailField(default="", allow_blank=True)
