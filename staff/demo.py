"""Demo staff data: pay rates, a month of shifts and of classes taught, last month's
pay periods locked and this month's open (computed)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.models import Branch, Member, Role, RoleAssignment, TrainerProfile, User
from bookings.models import Booking
from classes.models import ClassSchedule, ClassSession
from classes.services import local_datetime
from staff import services
from staff.models import Employment, PayRate, Shift

HISTORY_DAYS = 35


def seed(*, organisation, rng: random.Random) -> None:
    if PayRate.objects.exists():
        return
    now = timezone.now()
    owner = (
        User.objects.filter(
            role_assignments__role=Role.OWNER, role_assignments__organisation=organisation
        )
        .order_by("pk")
        .first()
    )
    _employments(now)
    _rates(organisation, rng)
    members = list(Member.objects.filter(status=Member.Status.ACTIVE).values_list("pk", flat=True))
    for branch in Branch.objects.order_by("pk"):
        zone = ZoneInfo(branch.timezone)
        today = now.astimezone(zone).date()
        _classes_taught(branch, today, now, members, rng)
        _shifts(branch, today, now, zone, rng)
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        paid = services.pay_period_create(
            actor=owner, branch=branch, starts_on=last_month, ends_on=this_month - timedelta(days=1)
        )
        services.pay_period_compute(period=paid.pk, actor=owner)
        services.pay_period_approve(period=paid.pk, actor=owner)
        services.pay_period_lock(period=paid.pk, actor=owner)
        current = services.pay_period_create(
            actor=owner,
            branch=branch,
            starts_on=this_month,
            ends_on=(this_month + timedelta(days=32)).replace(day=1) - timedelta(days=1),
        )
        services.pay_period_compute(period=current.pk, actor=owner)


def _employments(now) -> None:
    started = {}
    for user_id, created in RoleAssignment.objects.values_list("user_id", "created_at"):
        started[user_id] = min(created, started.get(user_id, created))
    Employment.objects.bulk_create(
        Employment(user_id=user_id, started_at=at - timedelta(days=400))
        for user_id, at in started.items()
    )


def _rates(organisation, rng) -> None:
    since = date(2024, 1, 1)
    for trainer in TrainerProfile.objects.select_related("user").order_by("pk"):
        base = Decimal(rng.choice([28, 30, 32, 35]))
        PayRate.objects.create(
            user=trainer.user,
            kind=PayRate.Kind.CLASS,
            amount=base,
            per_attendee=Decimal("1.50"),
            attendee_threshold=10,
            currency=organisation.currency,
            effective_from=since,
        )
        PayRate.objects.create(
            user=trainer.user,
            kind=PayRate.Kind.APPOINTMENT,
            amount=Decimal("30.00"),
            currency=organisation.currency,
            effective_from=since,
        )
        PayRate.objects.create(
            user=trainer.user,
            kind=PayRate.Kind.PT_COMMISSION,
            percent=Decimal("10"),
            currency=organisation.currency,
            effective_from=since,
        )
    desks = RoleAssignment.objects.filter(role=Role.FRONT_DESK).select_related("user")
    for assignment in desks:
        PayRate.objects.create(
            user=assignment.user,
            kind=PayRate.Kind.SHIFT,
            amount=Decimal("12.60"),
            currency=organisation.currency,
            effective_from=since,
        )
        PayRate.objects.create(
            user=assignment.user,
            kind=PayRate.Kind.SALES_COMMISSION,
            percent=Decimal("3"),
            currency=organisation.currency,
            effective_from=since,
        )


def _classes_taught(branch, today, now, members, rng) -> None:
    """The classes demo keeps two weeks of history; a month of pay needs five."""
    first_existing = (
        ClassSession.objects.filter(branch=branch)
        .order_by("occurrence_date")
        .values_list("occurrence_date", flat=True)
        .first()
    ) or today
    for schedule in ClassSchedule.objects.filter(branch=branch, trainer__isnull=False):
        day = today - timedelta(days=HISTORY_DAYS)
        while day < first_existing:
            if day.weekday() in schedule.weekdays:
                starts_at = local_datetime(day, schedule.start_time, branch.timezone)
                attended = rng.randint(schedule.capacity // 3, schedule.capacity)
                session = ClassSession.objects.create(
                    branch=branch,
                    class_type_id=schedule.class_type_id,
                    schedule=schedule,
                    occurrence_date=day,
                    room_id=schedule.room_id,
                    trainer_id=schedule.trainer_id,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
                    capacity=schedule.capacity,
                    booked_count=attended,
                )
                Booking.objects.bulk_create(
                    Booking(
                        session=session,
                        member_id=member_id,
                        status=Booking.Status.ATTENDED,
                        arrival=arrival,
                        created_at=starts_at - timedelta(days=1),
                        attendance_marked_at=starts_at,
                    )
                    for arrival, member_id in enumerate(
                        rng.sample(members, min(attended, len(members))), start=1
                    )
                )
            day += timedelta(days=1)


def _shifts(branch, today, now, zone, rng) -> None:
    desks = list(
        User.objects.filter(role_assignments__role=Role.FRONT_DESK, role_assignments__branch=branch)
    )
    rows = []
    for offset in range(HISTORY_DAYS, -7, -1):
        day = today - timedelta(days=offset)
        for index, desk in enumerate(desks):
            if day.weekday() == 6:
                continue
            start = datetime.combine(day, time(7 if index % 2 == 0 else 14), tzinfo=zone)
            end = start + timedelta(hours=8)
            shift = Shift(branch=branch, user=desk, starts_at=start, ends_at=end)
            if end < now:
                shift.clock_in_at = start + timedelta(minutes=rng.randint(-8, 6))
                shift.clock_out_at = end + timedelta(minutes=rng.randint(-5, 20))
            rows.append(shift)
    # One forgotten clock-out last week: flagged for the manager, nothing guessed.
    finished = [s for s in rows if s.clock_out_at and s.ends_at < now - timedelta(days=2)]
    if finished:
        forgotten = finished[-1]
        forgotten.clock_out_at = None
        forgotten.clock_out_missed_at = forgotten.ends_at + timedelta(hours=2)
    Shift.objects.bulk_create(rows)
