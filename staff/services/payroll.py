"""Pay rates and pay periods: compute, adjust, approve, lock.

Lock order: the pay period row, then its lines. Every write to a period's lines
holds the period's row lock and checks it is open, so once a lock commits nothing
can change it (the database refuses it too: migration 0002's trigger).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, User
from accounts.services import audit_record
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize
from staff import selectors
from staff.models import PayLine, PayPeriod, PayRate


@transaction.atomic
def pay_rate_create(*, actor: User | None, user: User, kind: str, effective_from: date, **terms):
    """A new rate from a date on (rates are never edited: history stays as paid)."""
    if not selectors.works_here(user=user):
        raise ServiceError(_("Only this gym's staff have pay rates here."), field="user")
    allowed = {
        "class_type",
        "service",
        "amount",
        "per_attendee",
        "attendee_threshold",
        "percent",
        "currency",
    }
    unknown = set(terms) - allowed
    if unknown:
        raise ServiceError(f"Unknown terms: {', '.join(sorted(unknown))}.", code="invalid")
    if kind in PayRate.COMMISSIONS and not terms.get("percent"):
        raise ServiceError(_("Enter the commission percentage."), code="invalid", field="percent")
    rate = PayRate(user=user, kind=kind, effective_from=effective_from, created_by=actor, **terms)
    rate.full_clean(exclude=["created_by"])
    rate.save()
    audit_record(actor=actor, action="pay_rate.create", target=rate)
    return rate


@transaction.atomic
def pay_period_create(
    *, actor: User | None, branch: Branch, starts_on: date, ends_on: date
) -> PayPeriod:
    if ends_on < starts_on:
        raise ServiceError(_("The period must end after it starts."), field="ends_on")
    if PayPeriod.objects.filter(
        branch=branch, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists():
        raise Conflict(
            _("Another pay period of this branch overlaps these dates."), field="starts_on"
        )
    period = PayPeriod(branch=branch, starts_on=starts_on, ends_on=ends_on)
    period.currency = branch.organisation.currency
    period.save()
    audit_record(actor=actor, action="pay_period.create", target=period)
    return period


def _lock_open(period: PayPeriod | int, *, statuses=(PayPeriod.Status.OPEN,)) -> PayPeriod:
    period_id = period if isinstance(period, int) else period.pk
    period = (
        PayPeriod.objects.select_for_update(of=("self",)).select_related("branch").get(pk=period_id)
    )
    if period.status not in statuses:
        if period.status == PayPeriod.Status.LOCKED:
            raise Conflict(
                _("This pay period is locked: add a correction to the next period instead."),
                code="period_locked",
            )
        raise Conflict(_("Reopen the period to change it."), code="period_approved")
    return period


@transaction.atomic
def pay_period_compute(
    *, period: PayPeriod | int, actor: User | None, now: datetime | None = None
) -> PayPeriod:
    """Recompute the period's lines from what happened; adjustments stay."""
    period = _lock_open(period)
    PayLine.objects.filter(period=period).exclude(kind=PayLine.Kind.ADJUSTMENT).delete()
    PayLine.objects.bulk_create(selectors.payroll_lines_for(period=period, now=now))
    period.computed_at = now or timezone.now()
    period.save(update_fields=["computed_at"])
    audit_record(actor=actor, action="pay_period.compute", target=period)
    return period


@transaction.atomic
def pay_line_adjust(
    *,
    period: PayPeriod | int,
    actor: User,
    user: User,
    amount: Decimal,
    reason: str,
    work_date: date | None = None,
) -> PayLine:
    """A manager's correction (a bonus, a late fix of a locked period), with why."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), code="invalid", field="reason")
    amount = quantize(Decimal(amount))
    if not amount:
        raise ServiceError(_("Enter an amount."), code="invalid", field="amount")
    period = _lock_open(period)
    if not selectors.works_here(user=user):
        raise ServiceError(_("Only this gym's staff are paid here."), field="user")
    line = PayLine.objects.create(
        period=period,
        user=user,
        kind=PayLine.Kind.ADJUSTMENT,
        work_date=work_date or min(period.ends_on, timezone.localdate()),
        description=_("Adjustment"),
        amount=amount,
        reason=reason.strip(),
        created_by=actor,
    )
    audit_record(actor=actor, action="pay_line.adjust", target=line, data={"amount": str(amount)})
    return line


@transaction.atomic
def pay_period_approve(*, period: PayPeriod | int, actor: User) -> PayPeriod:
    period = _lock_open(period)
    if period.computed_at is None:
        raise ServiceError(_("Compute the period before approving it."), code="not_computed")
    period.status, period.approved_at, period.approved_by = (
        PayPeriod.Status.APPROVED,
        timezone.now(),
        actor,
    )
    period.save(update_fields=["status", "approved_at", "approved_by"])
    audit_record(actor=actor, action="pay_period.approve", target=period)
    return period


@transaction.atomic
def pay_period_reopen(*, period: PayPeriod | int, actor: User) -> PayPeriod:
    period = _lock_open(period, statuses=(PayPeriod.Status.APPROVED,))
    period.status, period.approved_at, period.approved_by = PayPeriod.Status.OPEN, None, None
    period.save(update_fields=["status", "approved_at", "approved_by"])
    audit_record(actor=actor, action="pay_period.reopen", target=period)
    return period


@transaction.atomic
def pay_period_lock(*, period: PayPeriod | int, actor: User) -> PayPeriod:
    """Lock an approved period for good, with its total as paid."""
    period = _lock_open(period, statuses=(PayPeriod.Status.APPROVED,))
    total = selectors.period_total(period=period)
    updated = PayPeriod.objects.filter(Q(status=PayPeriod.Status.APPROVED), pk=period.pk).update(
        status=PayPeriod.Status.LOCKED,
        locked_at=timezone.now(),
        locked_by=actor,
        locked_total=total,
    )
    if not updated:  # pragma: no cover - the row lock above makes this unreachable
        raise Conflict(_("This pay period changed meanwhile."), code="period_changed")
    period.refresh_from_db()
    audit_record(actor=actor, action="pay_period.lock", target=period, data={"total": str(total)})
    return period
