"""Demo data: booking rules, four weeks of bookings (attendance history behind, places
and waitlists ahead), PT services, trainer availability and a few appointments."""

import random
from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Member, TrainerProfile
from bookings.models import (
    Appointment,
    AppointmentService,
    Booking,
    BookingPolicy,
    TrainerAvailability,
)
from classes.models import ClassSession, ClassType


def seed(*, organisation, rng: random.Random) -> None:
    if BookingPolicy.objects.exists():
        return
    BookingPolicy.objects.create(
        booking_opens_days=14,
        cancellation_cutoff_minutes=120,
        late_cancel_penalty=BookingPolicy.Penalty.FORFEIT,
        no_show_penalty=BookingPolicy.Penalty.FEE,
        no_show_fee=Decimal("5.00"),
        promotion_cutoff_minutes=60,
        currency=organisation.currency,
    )
    barbell = ClassType.objects.filter(slug="barbell-club").first()
    if barbell:
        BookingPolicy.objects.create(
            class_type=barbell,
            booking_opens_days=7,
            cancellation_cutoff_minutes=24 * 60,
            late_cancel_penalty=BookingPolicy.Penalty.FEE,
            late_cancel_fee=Decimal("6.00"),
            currency=organisation.currency,
        )
    _seed_bookings(rng)
    _seed_personal_training(organisation, rng)


def _seed_bookings(rng: random.Random) -> None:
    now = timezone.now()
    members = list(Member.objects.filter(status=Member.Status.ACTIVE).values_list("pk", flat=True))
    demo_member = Member.objects.filter(user__email="member@demo.spotter").first()
    if not members:
        return
    sessions = list(ClassSession.objects.order_by("starts_at"))
    bookings, counters = [], []
    for session in sessions:
        past = session.ends_at < now
        # Popular evening classes fill up and grow a waitlist; mornings are quieter.
        demand = (
            session.capacity + rng.randint(0, 6)
            if session.starts_at.hour >= 17
            else rng.randint(session.capacity // 3, session.capacity)
        )
        people = rng.sample(members, min(demand, len(members)))
        if demo_member and rng.random() < 0.15 and demo_member.pk not in people:
            people[0] = demo_member.pk
        booked = waiting = 0
        for arrival, member_id in enumerate(people, start=1):
            created = session.starts_at - timedelta(hours=rng.randint(3, 200))
            if booked < session.capacity:
                if past:
                    status = (
                        Booking.Status.ATTENDED if rng.random() < 0.88 else Booking.Status.NO_SHOW
                    )
                elif rng.random() < 0.05:
                    status = Booking.Status.CANCELLED
                else:
                    status = Booking.Status.BOOKED
            else:
                status = Booking.Status.CANCELLED if past else Booking.Status.WAITLISTED
            bookings.append(
                Booking(
                    session=session,
                    member_id=member_id,
                    status=status,
                    arrival=arrival,
                    created_at=created,
                    cancelled_at=created + timedelta(hours=1) if status == "cancelled" else None,
                    attendance_marked_at=session.ends_at
                    if past and status != "cancelled"
                    else None,
                )
            )
            booked += status in (
                Booking.Status.BOOKED,
                Booking.Status.ATTENDED,
                Booking.Status.NO_SHOW,
            )
            waiting += status == Booking.Status.WAITLISTED
        counters.append((session.pk, booked, waiting, len(people)))
    Booking.objects.bulk_create(bookings, batch_size=2000)
    by_pk = {s.pk: s for s in sessions}
    for pk, booked, waiting, arrivals in counters:
        session = by_pk[pk]
        session.booked_count, session.waitlist_count, session.arrival_seq = (
            booked,
            waiting,
            arrivals,
        )
    ClassSession.objects.bulk_update(
        sessions, ["booked_count", "waitlist_count", "arrival_seq"], batch_size=1000
    )
    # A cancelled class in the coming week, as a gym would have.
    upcoming = [s for s in sessions if s.starts_at > now + timedelta(days=2)]
    if upcoming:
        cancelled = rng.choice(upcoming)
        Booking.objects.filter(session=cancelled).update(
            status=Booking.Status.CANCELLED,
            cancelled_at=now,
            cancellation_reason="Class cancelled by the gym",
        )
        ClassSession.objects.filter(pk=cancelled.pk).update(
            status=ClassSession.Status.CANCELLED,
            cancellation_reason="Instructor unwell",
            booked_count=0,
            waitlist_count=0,
        )


def _seed_personal_training(organisation, rng: random.Random) -> None:
    pt = AppointmentService.objects.create(
        name="Personal training (60 min)",
        description="One-to-one coaching with a programme for your goals.",
        duration_minutes=60,
        price=Decimal("55.00"),
        currency=organisation.currency,
    )
    AppointmentService.objects.create(
        name="Taster session (30 min)",
        duration_minutes=30,
        price=Decimal("20.00"),
        currency=organisation.currency,
    )
    trainers = list(TrainerProfile.objects.prefetch_related("branches"))
    windows = []
    for trainer in trainers:
        for branch in trainer.branches.all()[:1]:
            for weekday in rng.sample(range(6), 3):
                windows.append(
                    TrainerAvailability(
                        trainer=trainer,
                        branch=branch,
                        weekday=weekday,
                        start_time=time(9, 0),
                        end_time=time(13, 0),
                    )
                )
    TrainerAvailability.objects.bulk_create(windows)
    members = list(Member.objects.filter(status=Member.Status.ACTIVE)[:40])
    from classes.services import local_datetime

    today = timezone.localdate()
    made = 0
    for window in windows:
        for week in range(2):
            day = today + timedelta(days=(window.weekday - today.weekday()) % 7 + 7 * week)
            if day <= today:
                continue
            starts_at = local_datetime(day, time(10, 0), window.branch.timezone)
            member = members[made % len(members)] if members else None
            if member is None:
                return
            clash = (
                Appointment.objects.filter(
                    trainer=window.trainer,
                    starts_at__lt=starts_at + timedelta(hours=1),
                    ends_at__gt=starts_at,
                ).exists()
                or Appointment.objects.filter(
                    member=member,
                    starts_at__lt=starts_at + timedelta(hours=1),
                    ends_at__gt=starts_at,
                ).exists()
            )
            if (
                clash
                or ClassSession.objects.filter(
                    trainer=window.trainer,
                    starts_at__lt=starts_at + timedelta(hours=1),
                    ends_at__gt=starts_at,
                ).exists()
            ):
                continue
            Appointment.objects.create(
                service=pt,
                trainer=window.trainer,
                member=member,
                branch=window.branch,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
            )
            made += 1
