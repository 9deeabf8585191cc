"""Credit notes and refunds."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from billing.models import (
    CreditNote,
    DocumentCounter,
    Invoice,
    Payment,
    Refund,
)
from billing.providers import get_provider
from billing.services.handlers import _paid_handlers
from billing.services.invoices import (
    _as_decimal,
    _invoice_email_context,
    _invoice_mark_paid,
    _lock_invoice,
)
from billing.services.numbering import _next_number
from billing.services.payments import _validate_payment_amount
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize
from gymsite.outbox import email_enqueue, outbox_enqueue, outbox_handler


def _credit_note_create(*, invoice: Invoice, amount: Decimal, reason: str, actor) -> CreditNote:
    return CreditNote.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        number=_next_number(
            organisation_id=invoice.organisation_id, kind=DocumentCounter.Kind.CREDIT_NOTE
        ),
        amount=amount,
        currency=invoice.currency,
        reason=reason[:255],
        created_by=actor if actor and actor.is_authenticated else None,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, amount: Decimal, reason: str, actor: User | None = None
) -> CreditNote:
    """Reduce what an open invoice asks for (a comp, a goodwill discount, a correction).

    Crediting the whole amount due settles the invoice: it becomes paid and its paid
    handlers run, as for a payment.
    """
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    invoice = _lock_invoice(invoice.pk, _paid_handlers)
    amount = _validate_payment_amount(invoice, amount)
    note = _credit_note_create(invoice=invoice, amount=amount, reason=reason.strip(), actor=actor)
    Invoice.objects.filter(pk=invoice.pk).update(amount_credited=F("amount_credited") + amount)
    invoice.refresh_from_db(fields=["amount_credited"])
    if invoice.amount_due <= 0:
        _invoice_mark_paid(invoice, now=timezone.now())
    if actor is not None:
        audit_record(
            actor=actor, action="credit_note.issue", target=note, data={"amount": str(amount)}
        )
    return note


@transaction.atomic
def refund_create(
    *, payment: Payment, amount: Decimal, reason: str, actor: User | None = None
) -> Refund:
    """Refund (part of) a successful payment, with a credit note documenting it.

    In-person payments are refunded over the counter at once; online providers are
    asked after commit, through the outbox.
    """
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    amount = _as_decimal(amount, field="amount")
    if amount <= 0 or amount != quantize(amount):
        raise ServiceError(
            _("Enter an amount greater than zero with at most two decimals."),
            code="invalid_amount",
            field="amount",
        )
    invoice = _lock_invoice(payment.invoice_id, {})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.SUCCEEDED:
        raise Conflict(_("Only a successful payment can be refunded."), code="payment_not_paid")
    if amount > payment.refundable:
        raise ServiceError(
            _("At most %(amount)s %(currency)s can be refunded.")
            % {"amount": payment.refundable, "currency": payment.currency},
            code="refund_too_large",
            field="amount",
        )
    note = _credit_note_create(invoice=invoice, amount=amount, reason=reason.strip(), actor=actor)
    provider = get_provider(invoice.branch.organisation, payment.provider)
    refund = Refund.objects.create(
        organisation_id=invoice.organisation_id,
        payment=payment,
        credit_note=note,
        amount=amount,
        currency=payment.currency,
        reason=reason.strip()[:255],
        created_by=actor if actor and actor.is_authenticated else None,
    )
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=F("amount_refunded") + amount)
    Invoice.objects.filter(pk=invoice.pk).update(amount_refunded=F("amount_refunded") + amount)
    if provider.in_person:
        refund.status = Refund.Status.SUCCEEDED
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "completed_at"])
        _refund_notify(refund, invoice)
    else:
        outbox_enqueue(
            kind="billing.refund",
            payload={"refund_id": refund.pk},
            organisation_id=invoice.organisation_id,
            dedupe_key=f"refund-{refund.pk}",
        )
    if actor is not None:
        audit_record(
            actor=actor,
            action="refund.create",
            target=refund,
            data={"payment": payment.pk, "amount": str(amount)},
        )
    return refund


def _refund_notify(refund: Refund, invoice: Invoice) -> None:
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/refund",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "amount": str(refund.amount),
                "reason": refund.reason,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"refund-{refund.pk}",
        )


@transaction.atomic
def refund_complete(*, refund: Refund, succeeded: bool, reference: str = "", message: str = ""):
    """Record a provider's answer to a refund. A failed refund gives the amount back to
    the payment (it can be refunded again)."""
    refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
    if refund.status != Refund.Status.PENDING:
        return refund
    refund.completed_at = timezone.now()
    refund.reference = reference or refund.reference
    if succeeded:
        refund.status = Refund.Status.SUCCEEDED
        refund.save(update_fields=["status", "completed_at", "reference"])
        _refund_notify(
            refund, Invoice.objects.select_related("payer").get(pk=refund.payment.invoice_id)
        )
        return refund
    refund.status = Refund.Status.FAILED
    refund.failure_message = message[:255]
    refund.save(update_fields=["status", "completed_at", "reference", "failure_message"])
    Payment.objects.filter(pk=refund.payment_id).update(
        amount_refunded=F("amount_refunded") - refund.amount
    )
    Invoice.objects.filter(pk=refund.payment.invoice_id).update(
        amount_refunded=F("amount_refunded") - refund.amount
    )
    return refund


@outbox_handler("billing.refund")
def _deliver_refund(message) -> None:
    """Ask the provider for a refund (runs after commit, outside any lock)."""
    from accounts.tenancy import tenant_scope

    with tenant_scope(message.organisation_id):
        refund = Refund.objects.select_related("payment__invoice__branch__organisation").get(
            pk=message.payload["refund_id"]
        )
        if refund.status != Refund.Status.PENDING:
            return
        payment = refund.payment
        provider = get_provider(payment.invoice.branch.organisation, payment.provider)
        result = provider.refund(
            payment_reference=payment.reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=f"refund-{refund.pk}",
            reason=refund.reason,
        )
        if not result.pending:
            refund_complete(
                refund=refund,
                succeeded=result.succeeded,
                reference=result.reference,
                message=result.failure_message,
            )
