"""Automatic collection and dunning: every charge attempt is claimed with one
conditional update on the invoice's collection state (docs/billing.md)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member
from billing.models import (
    Invoice,
    Payment,
    PaymentMethod,
)
from billing.providers import ChargeResult, ProviderError, get_provider
from billing.services.handlers import _failed_handlers, _paid_handlers, _run_handlers
from billing.services.invoices import _invoice_email_context, _lock_invoice
from billing.services.payments import _apply_payment
from billing.services.refunds import refund_create
from gymsite.outbox import email_enqueue

logger = logging.getLogger(__name__)


DEFAULT_DUNNING_RETRY_DAYS = (1, 3, 7)


def dunning_retry_days() -> tuple[int, ...]:
    return tuple(getattr(settings, "BILLING_DUNNING_RETRY_DAYS", DEFAULT_DUNNING_RETRY_DAYS))


def default_payment_method(*, payer: Member) -> PaymentMethod | None:
    return PaymentMethod.objects.filter(member=payer, is_default=True, is_active=True).first()


# A charge attempt leases its invoice for this long, so two sweeps never both charge.
COLLECTION_LEASE = timedelta(minutes=15)


def _collection_claim(*, invoice_id: int, now: datetime, scheduled: bool) -> bool:
    """Claim the right to make the invoice's next charge attempt: one conditional
    UPDATE whose row count says who won. The invoice must be open and not leased to
    anyone (or the lease ran out) and, for the dunning sweep (``scheduled``), its
    next collection must be due. The claim takes the next claim number
    (``collection_claims``), which its holder keeps to renew the lease.

    The claim also moves ``next_collection_at`` to the lease's end, so if this worker
    dies the sweep finds the attempt there and takes it over.
    """
    lease_until = max(now, timezone.now()) + COLLECTION_LEASE
    claimable = Invoice.objects.filter(pk=invoice_id, status=Invoice.Status.OPEN).filter(
        Q(collection_lease_until__isnull=True) | Q(collection_lease_until__lte=now)
    )
    if scheduled:
        claimable = claimable.filter(next_collection_at__lte=now)
    return bool(
        claimable.update(
            collection_claims=F("collection_claims") + 1,
            collection_lease_until=lease_until,
            next_collection_at=lease_until,
        )
    )


def _collection_lease_renew(*, payment: Payment, now: datetime) -> bool:
    """The holder of a claim extends its lease right before asking the provider;
    False when the claim is no longer its own (another worker took the attempt over
    after the lease ran out, or the attempt is finished)."""
    claim = getattr(payment, "collection_claim", None)
    if claim is None:
        raise ValueError("invoice_charge takes the attempt returned by invoice_collection_prepare")
    lease_until = max(now, timezone.now()) + COLLECTION_LEASE
    return bool(
        Invoice.objects.filter(
            pk=payment.invoice_id,
            collection_claims=claim,
            collection_lease_until__isnull=False,
        ).update(collection_lease_until=lease_until, next_collection_at=lease_until)
    )


@transaction.atomic
def invoice_collection_prepare(
    *, invoice: Invoice, now: datetime | None = None, scheduled: bool = False
) -> Payment | None:
    """Step one of an automatic charge: claim the invoice's collection (see
    ``_collection_claim``) and record the attempt (a pending ``Payment`` with an
    idempotency key).

    ``scheduled`` is the dunning sweep: only an invoice whose next collection is due
    is claimed. Without it (renewal, "pay now", the admin's "charge now") the attempt
    is made whatever the retry schedule says, but never while another is leased.
    A pending attempt found after winning the claim was left by a worker whose lease
    ran out: it is taken over (recorded on it) and sent again with the same key, so
    the provider answers with the first charge instead of making a second.

    May run inside a caller's transaction (the renewal job issues the invoice and
    prepares its charge in one commit). Returns None when there is nothing to do.
    Then call ``invoice_charge`` after commit.
    """
    now = now or timezone.now()
    if not _collection_claim(invoice_id=invoice.pk, now=now, scheduled=scheduled):
        return None
    # The UPDATE holds the row lock until commit: this read sees our own claim.
    invoice = Invoice.objects.select_related("payer", "branch__organisation").get(pk=invoice.pk)
    claim = invoice.collection_claims
    pending = invoice.payments.filter(status=Payment.Status.PENDING).first()
    if pending is not None:
        Payment.objects.filter(pk=pending.pk).update(
            takeovers=F("takeovers") + 1, taken_over_at=now
        )
        pending.refresh_from_db(fields=["takeovers", "taken_over_at"])
        logger.warning(
            "stale charge attempt taken over",
            extra={"payment_id": pending.pk, "takeovers": pending.takeovers},
        )
        pending.collection_claim = claim
        return pending
    if invoice.amount_due <= 0:
        _collection_release(invoice.pk)
        return None
    method = default_payment_method(payer=invoice.payer)
    attempt = invoice.collection_attempts + 1
    payment = Payment.objects.create(
        organisation_id=invoice.organisation_id,
        invoice=invoice,
        branch_id=invoice.branch_id,
        payer=invoice.payer,
        amount=invoice.amount_due,
        currency=invoice.currency,
        provider=method.provider if method else "manual",
        payment_method=method,
        status=Payment.Status.PENDING,
        idempotency_key=f"invoice-{invoice.pk}-attempt-{attempt}",
    )
    payment.collection_claim = claim
    return payment


def _collection_release(invoice_id: int) -> None:
    Invoice.objects.filter(pk=invoice_id).update(collection_lease_until=None)


def invoice_collect(
    *, invoice: Invoice, now: datetime | None = None, scheduled: bool = False
) -> Payment | None:
    """Try to charge an open invoice to the payer's saved payment method.

    Three steps: record the attempt (a pending Payment with an idempotency key) and
    commit; call the provider with no transaction open; record the result. On a
    decline the next retry is scheduled (``BILLING_DUNNING_RETRY_DAYS``) and the
    payer emailed a link to pay; after the last retry the failed handlers are told
    it was final. Returns the attempt, or None if there was nothing to collect.
    """
    now = now or timezone.now()
    payment = invoice_collection_prepare(invoice=invoice, now=now, scheduled=scheduled)
    if payment is None:
        return None
    return invoice_charge(payment=payment, invoice=invoice, now=now)


def invoice_charge(*, payment: Payment, invoice: Invoice, now: datetime | None = None) -> Payment:
    """Steps two and three of an automatic charge: ask the provider (no transaction
    open) and record its answer. ``payment`` comes from ``invoice_collection_prepare``.

    The lease is renewed first: a worker that lost it (too slow, and another took the
    attempt over) does not call the provider and leaves the attempt to the new holder.
    """
    now = now or timezone.now()
    if not _collection_lease_renew(payment=payment, now=now):
        logger.warning("charge attempt no longer ours", extra={"payment_id": payment.pk})
        payment.refresh_from_db()
        return payment
    try:
        provider = get_provider(invoice.branch.organisation, payment.provider)
        if not provider.supports_off_session or payment.payment_method is None:
            result = ChargeResult(
                succeeded=False,
                failure_code="no_payment_method",
                failure_message=_("No saved payment method."),
            )
        else:
            result = provider.charge(
                amount=payment.amount,
                currency=payment.currency,
                payment_method=payment.payment_method,
                idempotency_key=payment.idempotency_key,
                description=str(invoice),
                metadata={"invoice_id": invoice.pk, "organisation_id": invoice.organisation_id},
            )
    except ProviderError:
        # Left pending: the next sweep (after the lease) asks again with the same key.
        logger.warning("payment provider unavailable", extra={"payment_id": payment.pk})
        return payment
    return payment_attempt_complete(payment=payment, result=result, now=now)


@transaction.atomic
def payment_attempt_complete(
    *, payment: Payment, result: ChargeResult, now: datetime | None = None
) -> Payment:
    """Record a provider's answer to a charge attempt (also used by webhooks).

    Idempotent: an attempt already completed is returned unchanged.
    """
    now = now or timezone.now()
    registry = _paid_handlers if result.succeeded else _failed_handlers
    invoice = _lock_invoice(payment.invoice_id, registry)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.PENDING:
        return payment
    # The attempt is over: its lease ends with it (the invoice row is locked above).
    invoice.collection_lease_until = None
    invoice.save(update_fields=["collection_lease_until"])
    payment.completed_at = now
    if result.reference:
        payment.reference = result.reference
    if result.succeeded and invoice.status == Invoice.Status.OPEN:
        # Never more than is still due (paid at the desk meanwhile: the rest is refunded).
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "completed_at", "reference"])
        if payment.amount > invoice.amount_due:
            _refund_duplicate(payment)
            return payment
        _apply_payment(invoice, payment, now=now)
        return payment
    if result.succeeded:
        payment.status = Payment.Status.SUCCEEDED
        payment.save(update_fields=["status", "completed_at", "reference"])
        _refund_duplicate(payment)
        return payment
    payment.status = Payment.Status.FAILED
    payment.failure_code = (result.failure_code or "declined")[:60]
    payment.failure_message = (result.failure_message or "")[:255]
    payment.save(
        update_fields=["status", "completed_at", "reference", "failure_code", "failure_message"]
    )
    if invoice.status != Invoice.Status.OPEN:
        return payment
    retries = dunning_retry_days()
    attempts = invoice.collection_attempts + 1
    final = attempts > len(retries)
    invoice.collection_attempts = attempts
    invoice.next_collection_at = None if final else now + timedelta(days=retries[attempts - 1])
    invoice.save(update_fields=["collection_attempts", "next_collection_at"])
    _run_handlers(invoice, _failed_handlers, final=final)
    if invoice.payer.email:
        email_enqueue(
            to=invoice.payer.email,
            template="billing/payment_failed",
            context={
                **_invoice_email_context(invoice, invoice.payer),
                "final": final,
                "next_attempt": invoice.next_collection_at.date().isoformat()
                if invoice.next_collection_at
                else "",
                "failure_message": payment.failure_message or payment.failure_code,
            },
            organisation_id=invoice.organisation_id,
            dedupe_key=f"payment-failed-{payment.pk}",
        )
    return payment


def _refund_duplicate(payment: Payment) -> None:
    """A charge that landed after the invoice was settled another way goes back."""
    logger.warning("charge on a settled invoice refunded", extra={"payment_id": payment.pk})
    refund_create(
        payment=payment,
        amount=payment.amount,
        reason=_("Paid twice: this charge is returned"),
    )


def invoices_collect_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Attempt every open invoice whose next collection is due (organisation in scope)."""
    now = now or timezone.now()
    ids = (
        Invoice.objects.filter(status=Invoice.Status.OPEN, next_collection_at__lte=now)
        .order_by("next_collection_at", "pk")
        .values_list("pk", flat=True)
    )
    if limit:
        ids = ids[:limit]
    attempted = 0
    for invoice in Invoice.objects.filter(pk__in=list(ids)).select_related("branch__organisation"):
        # The list may be old by now (another sweep ran meanwhile): each invoice is
        # claimed only if its collection is still due.
        attempted += invoice_collect(invoice=invoice, now=now, scheduled=True) is not None
    return attempted
