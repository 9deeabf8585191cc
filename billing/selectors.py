"""Read-side queries for invoices and payments."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import Member
from billing.models import Invoice, InvoiceLine, Payment, PaymentMethod, PendingCharge


def invoices_for_payer(*, payer: Member) -> QuerySet[Invoice]:
    """A payer's invoices, newest first (drafts are not shown to members)."""
    return (
        Invoice.objects.filter(payer=payer)
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("branch")
        .order_by("-issued_at", "-pk")
    )


def invoice_detail(*, pk: int) -> Invoice:
    return (
        Invoice.objects.select_related("branch__organisation", "payer")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "pk")),
            Prefetch(
                "payments",
                queryset=Payment.objects.filter(status=Payment.Status.SUCCEEDED).order_by("pk"),
                to_attr="succeeded_payments",
            ),
            "credit_notes",
        )
        .get(pk=pk)
    )


def payment_methods_for(*, member: Member) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(member=member, is_active=True)


def unbilled_charges_for(*, payer: Member) -> QuerySet[PendingCharge]:
    return PendingCharge.objects.filter(payer=payer, status=PendingCharge.Status.PENDING).order_by(
        "created_at"
    )
