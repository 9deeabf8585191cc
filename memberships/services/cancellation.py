"""Cancelling a membership (at once or at the end of its notice), its preview and
withdrawing a scheduled cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from billing import services as billing
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.money import quantize
from memberships.models import (
    Membership,
    MembershipFreeze,
)
from memberships.services.periods import bills_periodically, period_end_for
from memberships.services.transitions import (
    TERMINAL,
    S,
    _lock,
    _notify,
    _save,
    _today,
    _transition,
    _user,
    membership_open_invoices,
)

# --- cancellation ------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationPreview:
    membership: Membership
    immediate: bool
    last_day: date
    notice_ends: date | None
    minimum_term_ends: date | None
    remaining_payments: int
    remaining_amount: Decimal
    currency: str
    explanation: list[str]


def membership_cancellation_preview(
    *, membership: Membership, immediately: bool = False, today: date | None = None
) -> CancellationPreview:
    """Exactly what cancelling would do, shown before the member confirms.

    A recurring membership runs to the end of the billing period in which both the
    notice period and the minimum term have ended; the periods until then are still
    billed. A pending membership (never paid) ends at once.
    """
    today = today or _today()
    plan = membership.plan
    if membership.status in TERMINAL:
        raise Conflict(_("This membership has already ended."), code="already_ended")
    explanation: list[str] = []
    currency = membership.currency
    if immediately or membership.status == S.PENDING or not bills_periodically(plan):
        last_day = today
        if membership.status == S.PENDING:
            explanation.append(
                _("It has not been paid yet: it ends now and its invoice is voided.")
            )
        else:
            explanation.append(_("It ends today, with no refund for the time left."))
        return CancellationPreview(
            membership, True, last_day, None, None, 0, Decimal("0.00"), currency, explanation
        )
    notice_ends = today + timedelta(days=plan.notice_period_days)
    minimum_ends = (
        membership.start_date + relativedelta(months=plan.minimum_term_months) - timedelta(days=1)
        if plan.minimum_term_months
        else None
    )
    earliest = max(d for d in (notice_ends, minimum_ends, today) if d)
    last_day = membership.current_period_end or today
    payments = 0
    while last_day < earliest:
        last_day = period_end_for(plan, last_day + timedelta(days=1))
        payments += 1
    amount = quantize(membership.price * payments)
    if plan.notice_period_days:
        explanation.append(
            _("The plan has a %(days)s-day notice period, which ends on %(date)s.")
            % {"days": plan.notice_period_days, "date": notice_ends}
        )
    if minimum_ends and minimum_ends >= today:
        explanation.append(
            _("The minimum term of %(months)s months runs until %(date)s.")
            % {"months": plan.minimum_term_months, "date": minimum_ends}
        )
    explanation.append(
        _("Your membership stays usable until %(date)s and then ends.") % {"date": last_day}
    )
    if payments:
        explanation.append(
            _("%(count)s more payment(s) of %(price)s %(currency)s (plus tax) will be taken.")
            % {"count": payments, "price": quantize(membership.price), "currency": currency}
        )
    else:
        explanation.append(_("No further payments will be taken."))
    return CancellationPreview(
        membership,
        False,
        last_day,
        notice_ends,
        minimum_ends,
        payments,
        amount,
        currency,
        explanation,
    )


@transaction.atomic
def membership_cancel(
    *,
    membership: Membership,
    reason: str,
    actor: User | None = None,
    immediately: bool = False,
    staff: bool = False,
    today: date | None = None,
) -> Membership:
    """Cancel as previewed by ``membership_cancellation_preview``.

    Members cancel at the earliest date their plan allows (pending memberships at
    once). Staff may cancel immediately. The status becomes ``cancelled`` on the
    last day's next morning (the daily job), or now when immediate.
    """
    today = today or _today()
    if not reason or not reason.strip():
        raise ServiceError(_("Tell us why you are leaving."), code="required", field="reason")
    if immediately and not staff:
        raise NotAllowed(_("Only staff can end a membership immediately."), code="not_allowed")
    membership = _lock(membership)
    if membership.cancels_on and not immediately:
        raise Conflict(
            _("This membership is already set to end on %(date)s.")
            % {"date": membership.cancels_on},
            code="already_cancelling",
        )
    preview = membership_cancellation_preview(
        membership=membership, immediately=immediately, today=today
    )
    membership.cancellation_reason = reason.strip()
    membership.cancel_requested_at = timezone.now()
    membership.cancel_requested_by = _user(actor)
    membership.cancels_on = preview.last_day
    fields = ["cancellation_reason", "cancel_requested_at", "cancel_requested_by", "cancels_on"]
    if preview.immediate:
        membership.auto_renew = False
        if membership.end_date is None or membership.end_date > today:
            membership.end_date = today
        _save(membership, *fields, "auto_renew", "end_date")
        MembershipFreeze.objects.filter(
            membership=membership, status=MembershipFreeze.Status.SCHEDULED
        ).update(status=MembershipFreeze.Status.CANCELLED)
        MembershipFreeze.objects.filter(
            membership=membership, status=MembershipFreeze.Status.ACTIVE
        ).update(status=MembershipFreeze.Status.ENDED, ended_on=today)
        _transition(membership, S.CANCELLED, actor=actor, reason=membership.cancellation_reason)
        for invoice in membership_open_invoices(membership).filter(amount_paid=0):
            billing.invoice_void(invoice=invoice, actor=actor, reason=_("Membership cancelled"))
    else:
        _save(membership, *fields)
    _notify(
        membership,
        "cancellation_confirmed",
        f"cancel-{membership.cancels_on}",
        last_day=membership.cancels_on,
        explanation=preview.explanation,
    )
    if staff and actor is not None:
        audit_record(
            actor=actor,
            action="membership.cancel",
            target=membership,
            data={"immediately": immediately, "last_day": str(membership.cancels_on)},
        )
    return membership


@transaction.atomic
def membership_cancel_withdraw(*, membership: Membership, actor: User | None = None) -> Membership:
    """Keep a membership after all, before its scheduled last day."""
    membership = _lock(membership)
    if membership.status in TERMINAL or not membership.cancels_on:
        raise Conflict(_("This membership is not set to end."), code="not_cancelling")
    membership.cancels_on = None
    membership.cancellation_reason = ""
    membership.cancel_requested_at = None
    membership.cancel_requested_by = None
    _save(
        membership,
        "cancels_on",
        "cancellation_reason",
        "cancel_requested_at",
        "cancel_requested_by",
    )
    return membership
