"""The end of each period and term: renewals (a new period and its invoice), a
period given free, expiry of what has run out, and the reminders before it.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from billing import services as billing
from billing.models import Invoice, InvoiceLine, Payment
from gymsite.errors import Conflict, ServiceError
from memberships.models import (
    Membership,
)
from memberships.services.periods import bills_periodically, period_end_for
from memberships.services.transitions import (
    MEMBERSHIP_SOURCE,
    TERMINAL,
    S,
    _lock,
    _notify,
    _save,
    _today,
    _transition,
    membership_open_invoices,
)

# --- renewals ----------------------------------------------------------------------


def _unpaid_invoice_exists():
    return Exists(
        InvoiceLine.objects.filter(
            source_type=MEMBERSHIP_SOURCE,
            source_id=Cast(OuterRef("pk"), output_field=CharField()),
            invoice__status=Invoice.Status.OPEN,
        )
    )


def renewals_due(*, today: date):
    """Memberships whose next period has started and is not billed yet."""
    return (
        Membership.objects.filter(
            status=S.ACTIVE,
            auto_renew=True,
            current_period_end__lt=today,
        )
        .filter(Q(cancels_on__isnull=True) | Q(cancels_on__gt=F("current_period_end")))
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=F("current_period_end")))
        .exclude(_unpaid_invoice_exists())
    )


@transaction.atomic
def membership_renew(
    *, membership: Membership | int, today: date | None = None, prepare_charge: bool = False
) -> Invoice | None:
    """Bill a membership's next period, exactly once.

    The membership row is locked (skipping it if another worker holds it) and the due
    conditions re-checked under the lock; the invoice's ``billing_key`` names the
    period, so even a run that got past both would get the same invoice back.
    With ``prepare_charge`` the charge attempt is recorded in the same transaction
    (``invoice.prepared_payment``), to be sent with ``billing.invoice_charge`` after
    commit. Returns the invoice, or None if nothing was due.
    """
    today = today or _today()
    pk = membership if isinstance(membership, int) else membership.pk
    locked = (
        renewals_due(today=today)
        .filter(pk=pk)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "plan", "member__home_branch__organisation", "branch__organisation", "payer"
        )
        .first()
    )
    if locked is None:
        return None
    membership = locked
    # The query above may have read invoices from a snapshot older than the lock: now
    # that this worker holds the row (anyone billing it must too), look again.
    if membership_open_invoices(membership).exists():
        return None
    start = membership.current_period_end + timedelta(days=1)
    end = period_end_for(membership.plan, start)
    branch = membership.branch or membership.member.home_branch
    invoice = billing.invoice_issue(
        payer=membership.payer,
        branch=branch,
        lines=[
            billing.InvoiceLineSpec(
                description=f"{membership.plan.name} ({start} – {end})",
                quantity=1,
                unit_price=membership.price,
                source_type=MEMBERSHIP_SOURCE,
                source_id=str(membership.pk),
                period_start=start,
                period_end=end,
            )
        ],
        due_date=start,
        billing_key=f"membership:{membership.pk}:{start.isoformat()}",
        include_account_charges=True,
        notify=False,
    )
    invoice.prepared_payment = None
    if prepare_charge and invoice.status == Invoice.Status.OPEN:
        invoice.prepared_payment = billing.invoice_collection_prepare(invoice=invoice)
    return invoice


def memberships_renew_due(*, today: date | None = None, limit: int | None = None) -> dict:
    """The daily renewal job for the organisation in scope: bill, then charge, each
    due membership. Charging happens after the invoice's transaction commits."""
    today = today or _today()
    ids = list(renewals_due(today=today).order_by("pk").values_list("pk", flat=True)[:limit])
    billed = charged = 0
    for pk in ids:
        # One commit bills the period and records the charge attempt; the provider is
        # called after it, outside any transaction.
        invoice = membership_renew(membership=pk, today=today, prepare_charge=True)
        if invoice is None:
            continue
        billed += 1
        if invoice.prepared_payment is not None:
            payment = billing.invoice_charge(payment=invoice.prepared_payment, invoice=invoice)
            charged += payment.status == Payment.Status.SUCCEEDED
    return {"due": len(ids), "billed": billed, "charged": charged}


@transaction.atomic
def membership_comp_period(*, membership: Membership, actor: User, reason: str) -> Membership:
    """Give a period free: settle the open period invoice with a credit note, or
    (nothing open) extend the current period by one billing period at no charge."""
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    membership = _lock(membership)
    if membership.status in TERMINAL:
        raise Conflict(_("This membership has ended."), code="already_ended")
    open_invoice = membership_open_invoices(membership).order_by("pk").first()
    if open_invoice is not None:
        billing.credit_note_issue(
            invoice=open_invoice, amount=open_invoice.amount_due, reason=reason, actor=actor
        )
        membership.refresh_from_db()
        return membership
    if not bills_periodically(membership.plan) or not membership.current_period_end:
        raise ServiceError(
            _("Only a recurring membership has periods to give."), code="not_recurring"
        )
    start = membership.current_period_end + timedelta(days=1)
    membership.current_period_end = period_end_for(membership.plan, start)
    if membership.end_date:
        membership.end_date += membership.current_period_end - start + timedelta(days=1)
    _save(membership, "current_period_end", "end_date")
    audit_record(
        actor=actor,
        action="membership.comp",
        target=membership,
        data={"reason": reason.strip(), "until": str(membership.current_period_end)},
    )
    return membership


# --- expiry and reminders ----------------------------------------------------------


def memberships_expire_due(*, today: date | None = None) -> dict:
    """Daily: end memberships whose last day has passed (scheduled cancellations,
    fixed terms, packs and tickets); cancel purchases left unpaid too long."""
    today = today or _today()
    cancelled = expired = abandoned = 0
    for pk in (
        Membership.objects.filter(cancels_on__lt=today)
        .exclude(status__in=TERMINAL)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status in TERMINAL or not membership.cancels_on:
                continue
            if membership.cancels_on >= today:
                continue
            for invoice in membership_open_invoices(membership).filter(amount_paid=0):
                billing.invoice_void(invoice=invoice, reason=_("Membership ended"))
            membership.refresh_from_db(fields=["status"])
            if membership.status in TERMINAL:
                continue
            _transition(
                membership,
                S.CANCELLED,
                actor=membership.cancel_requested_by,
                reason=membership.cancellation_reason or _("Cancelled at the end of the term"),
            )
            cancelled += 1
    for pk in Membership.objects.filter(
        end_date__lt=today, status__in=[S.ACTIVE, S.FROZEN, S.PAST_DUE, S.SUSPENDED]
    ).values_list("pk", flat=True):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status in TERMINAL or not membership.end_date:
                continue
            if membership.end_date >= today:
                continue
            _transition(membership, S.EXPIRED, actor=None, reason=_("Reached its end date"))
            expired += 1
    stale = today - timedelta(days=getattr(settings, "MEMBERSHIP_PENDING_DAYS", 14))
    for pk in Membership.objects.filter(status=S.PENDING, created_at__date__lt=stale).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status != S.PENDING:
                continue
            for invoice in membership_open_invoices(membership).filter(amount_paid=0):
                billing.invoice_void(invoice=invoice, reason=_("Never paid"))
            membership.refresh_from_db(fields=["status"])
            if membership.status == S.PENDING:
                _transition(membership, S.CANCELLED, actor=None, reason=_("Never paid"))
            abandoned += 1
    return {"cancelled": cancelled, "expired": expired, "abandoned": abandoned}


def memberships_send_reminders(*, today: date | None = None) -> int:
    """Daily: email members whose membership ends in one of ``MEMBERSHIP_REMINDER_DAYS``."""
    today = today or _today()
    days = tuple(getattr(settings, "MEMBERSHIP_REMINDER_DAYS", (7, 1)))
    sent = 0
    targets = [today + timedelta(days=d) for d in days]
    memberships = (
        Membership.objects.filter(status__in=[S.ACTIVE, S.FROZEN])
        .filter(Q(cancels_on__in=targets) | (Q(cancels_on__isnull=True) & Q(end_date__in=targets)))
        .select_related("plan", "member", "payer")
    )
    for membership in memberships:
        last_day = membership.cancels_on or membership.end_date
        with transaction.atomic():
            _notify(
                membership,
                "ending_soon",
                f"ending-{last_day}-{(last_day - today).days}",
                last_day=last_day,
                days_left=(last_day - today).days,
            )
        sent += 1
    return sent
