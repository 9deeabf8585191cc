"""API for the mobile app: pay an invoice by card with Stripe's SDK (PaymentSheet)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import member_for_user
from billing.models import Invoice
from billing.providers import ProviderError
from billing.stripe.services import invoice_payment_intent_start


class IntentRequestSerializer(serializers.Serializer):
    save_card = serializers.BooleanField(
        default=False, help_text="Keep the card for renewals (charged off-session)."
    )


class IntentSerializer(serializers.Serializer):
    payment_intent = serializers.CharField()
    client_secret = serializers.CharField()
    customer = serializers.CharField()
    publishable_key = serializers.CharField()


class InvoiceStripeIntentView(APIView):
    """Members: a PaymentIntent for what is due on their invoice. The app confirms it
    with Stripe's SDK; the payment is recorded when Stripe's webhook arrives."""

    @extend_schema(request=IntentRequestSerializer, responses={200: IntentSerializer})
    def post(self, request, pk):
        member = member_for_user(user=request.user)
        invoice = (
            Invoice.objects.select_related("branch__organisation", "payer").filter(pk=pk).first()
        )
        if member is None or invoice is None or invoice.payer_id != member.pk:
            raise Http404
        data = IntentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            intent = invoice_payment_intent_start(
                invoice=invoice, payer=member, save_card=data.validated_data["save_card"]
            )
        except ProviderError:
            return Response(
                {"code": "card_payments_unavailable", "detail": "Card payments are unavailable."},
                status=503,
            )
        return Response(IntentSerializer(intent).data)
