"""Recording payments against invoices, and saved payment methods."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.services import audit_record
from billing.models import (
    Invoice,
    Payment,
    PaymentMethod,
)
from billing.services.handlers import _ALL, _lines_with_handler, _paid_handlers, _provider
from billing.services.invoices import (
    _as_decimal,
    _invoice_email_context,
    _invoice_mark_paid,
    _lock_invoice,
)
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize
from gymsite.outbox import email_enqueue


def _validate_payment_amount(invoice: Invoice, amount) -> Decimal:
    amount = _as_decimal(amount, field="amount")
    if amount != quantize(amount):
        raise ServiceError(
            _("Use at most two decimal places."), code="invalid_amount", field="amount"
        )
    if amount <= 0:
        raise ServiceError(
            _("The amount must be greater than zero."), code="invalid_amount", field="amount"
        )
    if invoice.status == Invoice.Status.PAID:
        raise Conflict(_("This invoice is already paid."), code="invoice_already_paid")
    if invoice.status != Invoice.Status.OPEN:
        raise Conflict(
            _("This invoice is %(status)s and cannot be paid.")
            % {"status": invoice.get_status_display().lower()},
            code="invoice_not_open",
        )
    if amount > invoice.amount_due:
        raise ServiceError(
            _("The amount is more than the %(due)s %(currency)s due.")
            % {"due": invoice.amount_due, "currency": invoice.currency},
            code="overpayment",
            field="amount",
        )
    return amount


def _apply_payment(invoice: Invoice, payment: Payment, *, now: datetime) -> None:
    """Add a payment to a locked invoice (the lock makes the read-modify-write safe)."""
    invoice.amount_paid += payment.amount
    if invoice.amount_due <= 0:
        _invoice_mark_paid(invoice, now=now, also=("amount_paid",))
    else:
        invoice.save(update_fields=["amount_paid"])
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/payment_received",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "amount": str(payment.amount),
                "lines": [line.description for line in _lines_with_handler(invoice, _ALL)],
                "paid": invoice.status == Invoice.Status.PAID,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"payment-received-{payment.pk}",
        )


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    provider: str = "manual",
    reference: str = "",
    actor: User | None = None,
) -> Payment:
    """Record money received for an invoice (front desk, or a provider's confirmation).

    When the invoice is fully paid it becomes paid and the paid handlers run, all in
    this transaction. Recording a provider reference twice (a repeated webhook)
    returns the first payment.
    """
    if reference:
        existing = Payment.objects.filter(provider=provider, reference=reference).first()
        if existing is not None and existing.status == Payment.Status.SUCCEEDED:
            return existing
    _provider(invoice.branch.organisation, provider)  # unknown names are refused
    invoice = _lock_invoice(invoice.pk, _paid_handlers)
    amount = _validate_payment_amount(invoice, amount)
    now = timezone.now()
    payment = Payment.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        branch_id=invoice.branch_id,
        payer=invoice.payer,
        amount=amount,
        currency=invoice.currency,
        provider=provider,
        reference=reference,
        status=Payment.Status.SUCCEEDED,
        completed_at=now,
        created_by=actor if actor and actor.is_authenticated else None,
    )
    _apply_payment(invoice, payment, now=now)
    if actor is not None:
        audit_record(
            actor=actor,
            action="payment.record",
            target=payment,
            data={"invoice": invoice.pk, "amount": str(amount), "provider": provider},
        )
    return payment


@transaction.atomic
def payment_method_save(
    *,
    member: Member,
    provider: str,
    method_reference: str,
    customer_reference: str = "",
    brand: str = "",
    last4: str = "",
    exp_month: int | None = None,
    exp_year: int | None = None,
    make_default: bool = True,
) -> PaymentMethod:
    """Keep a provider's reference to a payment method (never card data) for a member.

    Saving the same reference again updates it. The default method is the one renewals
    and dunning charge.
    """
    if not method_reference:
        raise ServiceError(_("A payment method reference is required."), code="required")
    if last4 and (len(last4) != 4 or not last4.isdigit()):
        raise ServiceError(_("Invalid card ending."), code="invalid", field="last4")
    _provider(member.home_branch.organisation, provider)
    Member.objects.select_for_update().filter(pk=member.pk).first()
    if make_default:
        PaymentMethod.objects.filter(member=member, is_default=True).update(is_default=False)
    method, _created = PaymentMethod.objects.update_or_create(
        provider=provider,
        method_reference=method_reference,
        defaults={
            "organisation_id": member.organisation_id,
            "member": member,
            "customer_reference": customer_reference,
            "brand": brand,
            "last4": last4,
            "exp_month": exp_month,
            "exp_year": exp_year,
            "is_default": make_default,
            "is_active": True,
        },
    )
    return method


@transaction.atomic
def payment_method_remove(*, method: PaymentMethod) -> PaymentMethod:
    PaymentMethod.objects.filter(pk=method.pk).update(is_active=False, is_default=False)
    method.refresh_from_db()
    return method
