"""Invoices and paying them, for the mobile app and the front desk. Thin views."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.caller import CallerMixin
from billing import selectors, services
from billing.api.serializers import InvoiceSerializer, PaymentSerializer, PaySerializer
from billing.models import Invoice, Payment
from gymsite.errors import Conflict, ServiceError


class InvoiceListView(CallerMixin, generics.ListAPIView):
    """Members: invoices they pay (as household payer). Staff: invoices of their
    branches, optionally for one member (?member=) or status (?status=)."""

    serializer_class = InvoiceSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("member", int, required=False),
            OpenApiParameter("status", str, required=False, enum=Invoice.Status.values),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invoice.objects.none()
        params = self.request.query_params
        if self.caller.is_staff:
            invoices = Invoice.objects.exclude(status=Invoice.Status.DRAFT)
            if params.get("member", "").isdigit():
                invoices = invoices.filter(payer_id=int(params["member"]))
        elif self.caller.member is not None:
            invoices = selectors.invoices_for_payer(payer=self.caller.member)
        else:
            return Invoice.objects.none()
        if params.get("status") in Invoice.Status.values:
            invoices = invoices.filter(status=params["status"])
        return invoices.prefetch_related("lines").order_by("-issued_at", "-pk")


class InvoicePayView(CallerMixin, APIView):
    """Members: charge their saved payment method for what is due. Staff: record money
    taken at the desk (amount defaults to everything due)."""

    @extend_schema(
        request=PaySerializer, responses={200: PaymentSerializer, 402: PaymentSerializer}
    )
    def post(self, request, pk):
        invoice = (
            Invoice.objects.select_related("branch__organisation", "payer").filter(pk=pk).first()
        )
        if invoice is None or invoice.status == Invoice.Status.DRAFT:
            raise Http404
        data = PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if self.caller.is_staff:
            payment = services.payment_record(
                invoice=invoice,
                amount=data.validated_data.get("amount") or invoice.amount_due,
                provider=data.validated_data["provider"],
                reference=data.validated_data["reference"],
                actor=request.user,
            )
            return Response(PaymentSerializer(payment).data)
        if self.caller.member is None or invoice.payer_id != self.caller.member.pk:
            raise Http404
        if invoice.status == Invoice.Status.PAID:
            raise Conflict("This invoice is already paid.", code="invoice_already_paid")
        if invoice.status != Invoice.Status.OPEN:
            raise Conflict("This invoice cannot be paid.", code="invoice_not_open")
        if not selectors.payment_methods_for(member=self.caller.member).exists():
            raise ServiceError(
                "No saved payment method: add one or pay at the front desk.",
                code="no_payment_method",
            )
        payment = services.invoice_collect(invoice=invoice)
        if payment is None:
            raise Conflict("Nothing is due on this invoice.", code="nothing_due")
        declined = payment.status == Payment.Status.FAILED
        return Response(PaymentSerializer(payment).data, status=402 if declined else 200)
