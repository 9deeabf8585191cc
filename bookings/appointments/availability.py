"""Trainer availability: weekly windows in the branch's local time, turned into slots."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from bookings.models import AppointmentService, TrainerAvailability
from classes.selectors import trainer_busy_times

SLOT_STEP = timedelta(minutes=30)


def _windows_on(trainer, branch, day: date) -> list[tuple[datetime, datetime]]:
    tz = ZoneInfo(branch.timezone)
    rows = TrainerAvailability.objects.filter(trainer=trainer, branch=branch, weekday=day.weekday())
    rows = rows.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )
    return [
        (
            datetime.combine(day, row.start_time, tzinfo=tz),
            datetime.combine(day, row.end_time, tzinfo=tz),
        )
        for row in rows
    ]


def slot_is_available(*, trainer, branch, starts_at: datetime, ends_at: datetime) -> bool:
    """Inside one of the trainer's windows (busy times are checked under lock at booking)."""
    local_day = starts_at.astimezone(ZoneInfo(branch.timezone)).date()
    return any(
        start <= starts_at and ends_at <= end
        for start, end in _windows_on(trainer, branch, local_day)
    )


def available_slots(
    *, service: AppointmentService, trainer, branch, day: date, now: datetime | None = None
) -> list[datetime]:
    """Start times on a local day at which the trainer is free for the whole service."""
    now = now or timezone.now()
    length = timedelta(minutes=service.duration_minutes)
    windows = _windows_on(trainer, branch, day)
    if not windows:
        return []
    day_start = min(start for start, _end in windows)
    day_end = max(end for _start, end in windows)
    busy = trainer_busy_times(trainer_id=trainer.pk, starts_at=day_start, ends_at=day_end)
    slots = []
    for start, end in windows:
        cursor = start
        while cursor + length <= end:
            slot_end = cursor + length
            if cursor > now and not any(
                b_start < slot_end and cursor < b_end for b_start, b_end in busy
            ):
                slots.append(cursor)
            cursor += SLOT_STEP
    return sorted(set(slots))  # overlapping windows offer a time once
