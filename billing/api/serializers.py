from rest_framework import serializers

from billing.models import Invoice, InvoiceLine, Payment


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "description",
            "quantity",
            "unit_price",
            "tax_rate",
            "subtotal",
            "tax_amount",
            "total",
            "source_type",
            "source_id",
            "period_start",
            "period_end",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number", read_only=True)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "payer",
            "branch",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "amount_paid",
            "amount_credited",
            "amount_refunded",
            "amount_due",
            "issued_at",
            "due_date",
            "paid_at",
            "lines",
        ]


class PaySerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="Staff only: the amount taken (default: all that is due).",
    )
    provider = serializers.CharField(
        max_length=30, required=False, default="manual", help_text="Staff only."
    )
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "amount",
            "currency",
            "provider",
            "reference",
            "status",
            "failure_code",
            "failure_message",
            "created_at",
        ]
