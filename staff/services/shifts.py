"""The rota, and clocking in and out at the front desk."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, User
from accounts.services import audit_record
from gymsite.errors import Conflict, ServiceError
from staff import selectors
from staff.models import Shift

# How long after a shift's planned end an open clock-in is flagged as a missed
# clock-out (for a manager to enter the real time; nothing is guessed).
MISSED_CLOCK_OUT_AFTER = timedelta(hours=2)


@transaction.atomic
def shift_plan(
    *,
    actor: User | None,
    branch: Branch,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    notes: str = "",
) -> Shift:
    if ends_at <= starts_at:
        raise ServiceError(_("A shift must end after it starts."), code="invalid", field="ends_at")
    if ends_at - starts_at > timedelta(hours=16):
        raise ServiceError(_("A shift lasts at most 16 hours."), code="invalid", field="ends_at")
    if not selectors.works_here(user=user):
        raise ServiceError(
            _("Only this gym's staff work shifts here."), code="invalid", field="user"
        )
    if Shift.objects.filter(user=user, starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
        raise Conflict(
            _("This person has another shift then."), code="shift_overlap", field="starts_at"
        )
    shift = Shift.objects.create(
        branch=branch, user=user, starts_at=starts_at, ends_at=ends_at, notes=notes
    )
    audit_record(actor=actor, action="shift.plan", target=shift)
    return shift


@transaction.atomic
def shift_clock_in(*, actor: User | None, shift: Shift, now: datetime | None = None) -> Shift:
    now = now or timezone.now()
    if now < shift.starts_at - timedelta(hours=1):
        raise ServiceError(_("This shift starts later."), code="too_early")
    if not Shift.objects.filter(pk=shift.pk, clock_in_at__isnull=True).update(clock_in_at=now):
        raise Conflict(_("Already clocked in."), code="already_clocked_in")
    shift.refresh_from_db()
    audit_record(actor=actor, action="shift.clock_in", target=shift)
    return shift


@transaction.atomic
def shift_clock_out(*, actor: User | None, shift: Shift, now: datetime | None = None) -> Shift:
    """Clock out at the desk. A shift flagged as a missed clock-out is closed by a
    manager with the real time (``shift_correct``), not by a late button press."""
    now = now or timezone.now()
    updated = Shift.objects.filter(
        pk=shift.pk,
        clock_in_at__isnull=False,
        clock_in_at__lt=now,
        clock_out_at__isnull=True,
        clock_out_missed_at__isnull=True,
    ).update(clock_out_at=now)
    if not updated:
        shift.refresh_from_db()
        if shift.clock_in_at is None:
            raise ServiceError(_("Not clocked in."), code="not_clocked_in")
        if shift.clock_out_missed_at is not None:
            raise Conflict(
                _("The clock-out was missed: a manager enters the time it ended."),
                code="clock_out_missed",
            )
        raise Conflict(_("Already clocked out."), code="already_clocked_out")
    shift.refresh_from_db()
    audit_record(actor=actor, action="shift.clock_out", target=shift)
    return shift


@transaction.atomic
def shift_correct(
    *,
    actor: User,
    shift: Shift,
    clock_in_at: datetime | None = None,
    clock_out_at: datetime,
    reason: str,
) -> Shift:
    """A manager enters the real times (a missed clock-out, a wrong press), with why."""
    if not reason.strip():
        raise ServiceError(_("Give a reason."), code="invalid", field="reason")
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    start = clock_in_at or shift.clock_in_at
    if start is None:
        raise ServiceError(_("Enter the clock-in time."), code="invalid", field="clock_in_at")
    if clock_out_at <= start:
        raise ServiceError(
            _("The clock-out must be after the clock-in."), code="invalid", field="clock_out_at"
        )
    before = {
        "clock_in_at": shift.clock_in_at and shift.clock_in_at.isoformat(),
        "clock_out_at": shift.clock_out_at and shift.clock_out_at.isoformat(),
    }
    shift.clock_in_at, shift.clock_out_at = start, clock_out_at
    shift.correction_reason = reason.strip()
    shift.save(update_fields=["clock_in_at", "clock_out_at", "correction_reason"])
    audit_record(
        actor=actor, action="shift.correct", target=shift, data={"before": before, "why": reason}
    )
    return shift


def shifts_flag_missed_clock_out(*, now: datetime | None = None) -> int:
    """Flag shifts still clocked in well after their planned end (periodic, per gym)."""
    now = now or timezone.now()
    return Shift.objects.filter(
        clock_in_at__isnull=False,
        clock_out_at__isnull=True,
        clock_out_missed_at__isnull=True,
        ends_at__lt=now - MISSED_CLOCK_OUT_AFTER,
    ).update(clock_out_missed_at=now)
