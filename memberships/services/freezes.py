"""Freezing a membership for a date range, unfreezing it, and the daily job that
starts and ends freezes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from gymsite.errors import Conflict, ServiceError
from memberships.models import (
    Membership,
    MembershipFreeze,
)
from memberships.services.transitions import (
    S,
    _lock,
    _notify,
    _save,
    _today,
    _transition,
    _user,
)

# --- freezes -----------------------------------------------------------------------


def _freeze_window_usage(membership: Membership, start: date) -> tuple[int, int]:
    """(freezes, frozen days) in the year before ``start``."""
    freezes = membership.freezes.exclude(status=MembershipFreeze.Status.CANCELLED).filter(
        start_date__gt=start - timedelta(days=365)
    )
    return len(freezes), sum(f.days for f in freezes)


def _freeze_check(membership: Membership, start_date, end_date, today: date) -> int:
    """Refuse a freeze the plan does not allow; the number of frozen days otherwise."""
    plan = membership.plan
    if membership.status != S.ACTIVE:
        raise Conflict(_("Only an active membership can be frozen."), code="not_active")
    if not start_date or not end_date:
        raise ServiceError(_("Give both dates."), code="required", field="start_date")
    if start_date < today:
        raise ServiceError(
            _("A freeze cannot start in the past."), code="start_in_past", field="start_date"
        )
    if end_date < start_date:
        raise ServiceError(
            _("The freeze must end on or after its first day."),
            code="end_before_start",
            field="end_date",
        )
    days = (end_date - start_date).days + 1
    if plan.max_freezes_per_year == 0 or plan.max_freeze_days_per_year == 0:
        raise ServiceError(_("This plan cannot be frozen."), code="freeze_not_allowed")
    if days < plan.min_freeze_days:
        raise ServiceError(
            _("A freeze lasts at least %(days)s days.") % {"days": plan.min_freeze_days},
            code="freeze_too_short",
            field="end_date",
        )
    count, used = _freeze_window_usage(membership, start_date)
    if count >= plan.max_freezes_per_year:
        raise ServiceError(
            _("This plan allows %(count)s freezes a year, all used.")
            % {"count": plan.max_freezes_per_year},
            code="freeze_limit",
            field="start_date",
        )
    if used + days > plan.max_freeze_days_per_year:
        raise ServiceError(
            _("This plan allows %(max)s frozen days a year; %(left)s are left.")
            % {"max": plan.max_freeze_days_per_year, "left": plan.max_freeze_days_per_year - used},
            code="freeze_too_long",
            field="end_date",
        )
    if membership.freezes.filter(
        status__in=[MembershipFreeze.Status.SCHEDULED, MembershipFreeze.Status.ACTIVE],
        start_date__lte=end_date,
        end_date__gte=start_date,
    ).exists():
        raise ServiceError(
            _("This overlaps another freeze."), code="freeze_overlap", field="start_date"
        )
    last_day = membership.cancels_on or membership.end_date
    if last_day and start_date > last_day:
        raise ServiceError(
            _("The membership ends on %(date)s, before this freeze.") % {"date": last_day},
            code="after_end",
            field="start_date",
        )
    return days


@transaction.atomic
def membership_freeze(
    *,
    membership: Membership,
    start_date: date,
    end_date: date,
    reason: str = "",
    actor: User | None = None,
    today: date | None = None,
) -> MembershipFreeze:
    """Hold a membership from ``start_date`` to ``end_date`` (inclusive).

    Limits from the plan: shortest freeze, frozen days and number of freezes in any
    365 days. A freeze starting today starts at once; a later one is started by the
    daily job.
    """
    today = today or _today()
    membership = _lock(membership)
    _freeze_check(membership, start_date, end_date, today)
    freeze = MembershipFreeze.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        start_date=start_date,
        end_date=end_date,
        reason=reason.strip()[:255],
        created_by=_user(actor),
    )
    if start_date <= today:
        _freeze_start(membership, freeze, actor=actor)
    _notify(membership, "frozen", f"freeze-{freeze.pk}", start_date=start_date, end_date=end_date)
    if actor is not None and membership.member.user_id != getattr(actor, "pk", None):
        audit_record(actor=actor, action="membership.freeze", target=membership)
    return freeze


@dataclass(frozen=True)
class FreezePreview:
    start_date: date
    end_date: date
    days: int
    next_payment: date | None
    ends_on: date | None
    freezes_left: int
    days_left: int


def membership_freeze_preview(
    *, membership: Membership, start_date: date, end_date: date, today: date | None = None
) -> FreezePreview:
    """What a freeze would do, checked by the same rules as ``membership_freeze``
    (raises the same errors), without writing anything: the confirm step shows it."""
    today = today or _today()
    days = _freeze_check(membership, start_date, end_date, today)
    count, used = _freeze_window_usage(membership, start_date)
    plan = membership.plan
    shift = timedelta(days=days)
    last_day = membership.cancels_on or membership.end_date
    return FreezePreview(
        start_date=start_date,
        end_date=end_date,
        days=days,
        next_payment=membership.current_period_end + shift
        if membership.current_period_end
        else None,
        ends_on=last_day + shift if last_day else None,
        freezes_left=plan.max_freezes_per_year - count - 1,
        days_left=plan.max_freeze_days_per_year - used - days,
    )


def _shift(membership: Membership, days: int) -> None:
    """Move the paid period, the end date and a scheduled cancellation by ``days``."""
    delta = timedelta(days=days)
    if membership.current_period_end:
        membership.current_period_end += delta
    if membership.end_date:
        membership.end_date += delta
    if membership.cancels_on:
        membership.cancels_on += delta
    _save(membership, "current_period_end", "end_date", "cancels_on")


def _freeze_start(membership: Membership, freeze: MembershipFreeze, *, actor) -> None:
    """active → frozen; the billing period is extended by the freeze's length."""
    _transition(
        membership,
        S.FROZEN,
        actor=actor,
        reason=freeze.reason
        or _("Frozen %(start)s – %(end)s") % {"start": freeze.start_date, "end": freeze.end_date},
    )
    freeze.status = MembershipFreeze.Status.ACTIVE
    freeze.save(update_fields=["status"])
    _shift(membership, freeze.days)


@transaction.atomic
def membership_unfreeze(
    *, membership: Membership, actor: User | None = None, today: date | None = None
) -> Membership:
    """frozen → active today (ending the freeze early gives back the unused days), or
    cancel a freeze that has not started yet."""
    today = today or _today()
    membership = _lock(membership)
    running = membership.freezes.filter(status=MembershipFreeze.Status.ACTIVE).first()
    if membership.status == S.FROZEN and running is not None:
        last_frozen = today - timedelta(days=1)
        unused = (running.end_date - last_frozen).days if last_frozen < running.end_date else 0
        if last_frozen < running.start_date:
            running.status = MembershipFreeze.Status.CANCELLED
            unused = running.days
        else:
            running.status = MembershipFreeze.Status.ENDED
            running.ended_on = min(last_frozen, running.end_date)
        running.save(update_fields=["status", "ended_on"])
        if unused:
            _shift(membership, -unused)
        _transition(membership, S.ACTIVE, actor=actor, reason=_("Unfrozen"))
        return membership
    scheduled = membership.freezes.filter(status=MembershipFreeze.Status.SCHEDULED).first()
    if scheduled is None:
        raise Conflict(_("This membership is not frozen."), code="not_frozen")
    scheduled.status = MembershipFreeze.Status.CANCELLED
    scheduled.save(update_fields=["status"])
    return membership


def memberships_apply_freezes(*, today: date | None = None) -> dict:
    """Daily: start freezes whose first day has come, end those whose last day passed."""
    today = today or _today()
    started = ended = 0
    for freeze_id, membership_id in MembershipFreeze.objects.filter(
        status=MembershipFreeze.Status.SCHEDULED, start_date__lte=today
    ).values_list("pk", "membership_id"):
        with transaction.atomic():
            membership = _lock(membership_id)
            freeze = MembershipFreeze.objects.select_for_update().get(pk=freeze_id)
            if freeze.status != MembershipFreeze.Status.SCHEDULED:
                continue
            if membership.status != S.ACTIVE:
                freeze.status = MembershipFreeze.Status.CANCELLED
                freeze.save(update_fields=["status"])
                continue
            _freeze_start(membership, freeze, actor=freeze.created_by)
            started += 1
    for freeze_id, membership_id in MembershipFreeze.objects.filter(
        status=MembershipFreeze.Status.ACTIVE, end_date__lt=today
    ).values_list("pk", "membership_id"):
        with transaction.atomic():
            membership = _lock(membership_id)
            freeze = MembershipFreeze.objects.select_for_update().get(pk=freeze_id)
            if freeze.status != MembershipFreeze.Status.ACTIVE:
                continue
            freeze.status = MembershipFreeze.Status.ENDED
            freeze.ended_on = freeze.end_date
            freeze.save(update_fields=["status", "ended_on"])
            if membership.status == S.FROZEN:
                _transition(membership, S.ACTIVE, actor=None, reason=_("Freeze ended"))
            ended += 1
    return {"started": started, "ended": ended}
