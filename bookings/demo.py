"""Demo data: booking rules, four weeks of bookings (attendance history behind, places
and waitlists ahead) that follow the booking rules and use class credits, PT services,
trainer availability and a few appointments."""

import random
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import F
from django.utils import timezone

from accounts.models import Member, TrainerProfile
from bookings import selectors
from bookings.models import (
    Appointment,
    AppointmentService,
    Booking,
    BookingPolicy,
    TrainerAvailability,
)
from bookings.penalties import booking_fee_charge
from classes.models import ClassSession, ClassType
from classes.services import local_datetime
from memberships.models import Membership, Plan
from memberships.selectors import plan_lists_attach


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


class _Eligibility:
    """The booking rules of ``selectors.member_eligible_membership`` over data held in
    memory, so thousands of demo bookings follow them without a query each: the
    plan rules (``memberships.selectors.membership_refusal``) on the member's
    memberships in the booking's order, its weekly limit, and credits (used up as
    places are given out)."""

    def __init__(self, member_ids: list[int]):
        self.memberships: dict[int, list[Membership]] = {}
        rows = Membership.objects.filter(member_id__in=member_ids).select_related("plan")
        for membership in rows:
            self.memberships.setdefault(membership.member_id, []).append(membership)
        plans = {m.plan_id: m.plan for ms in self.memberships.values() for m in ms}
        branches: dict[int, list[int]] = {}
        for plan_id, branch_id in Plan.branches.through.objects.filter(
            plan_id__in=plans
        ).values_list("plan_id", "branch_id"):
            branches.setdefault(plan_id, []).append(branch_id)
        categories: dict[int, list[int]] = {}
        for plan_id, category_id in Plan.class_categories.through.objects.filter(
            plan_id__in=plans
        ).values_list("plan_id", "classcategory_id"):
            categories.setdefault(plan_id, []).append(category_id)
        for ms in self.memberships.values():
            for m in ms:
                plan_lists_attach(
                    m.plan,
                    branch_ids=branches.get(m.plan_id, ()),
                    category_ids=categories.get(m.plan_id, ()),
                )
        self.credits = {
            m.pk: m.credits_remaining
            for ms in self.memberships.values()
            for m in ms
            if m.credits_remaining is not None
        }
        self.credits_at_start = dict(self.credits)
        self.week_counts: dict[tuple[int, date], int] = {}

    def membership_for(self, member_id: int, session: ClassSession, local) -> Membership | None:
        """The membership the member may book this session on, or None."""
        member = Member(pk=member_id, status=Member.Status.ACTIVE)
        try:
            membership = selectors.membership_allowing(
                member=member, session=session, memberships=self.memberships.get(member_id, [])
            )
        except selectors.NotEligible:
            return None
        limit = membership.plan.weekly_attendance_limit
        week = local.date() - timedelta(days=local.weekday())
        if limit is not None and self.week_counts.get((member_id, week), 0) >= limit:
            return None
        return membership

    def take(self, member_id: int, membership: Membership, local, *, status, credit: bool) -> bool:
        """Record a place given; returns whether it holds a credit."""
        if status in selectors.WEEKLY_LIMIT_STATUSES:
            week = local.date() - timedelta(days=local.weekday())
            self.week_counts[(member_id, week)] = self.week_counts.get((member_id, week), 0) + 1
        if credit and membership.pk in self.credits:
            self.credits[membership.pk] -= 1
            membership.credits_remaining = self.credits[membership.pk]
            return True
        return False

    def credits_used(self) -> dict[int, int]:
        return {
            pk: self.credits_at_start[pk] - left
            for pk, left in self.credits.items()
            if left != self.credits_at_start[pk]
        }


def _seed_bookings(rng: random.Random) -> None:
    """Four weeks of bookings that obey the booking rules: each place is on the member's
    deciding membership, and credit-based memberships pay for their places (a credit
    held by booked and waitlisted places, used by attended ones and by no-shows under
    a forfeit or fee rule; cancelled places give it back). No-show fees are charged
    through billing, as ``bookings_settle_finished`` does."""
    now = timezone.now()
    members = list(Member.objects.filter(status=Member.Status.ACTIVE).values_list("pk", flat=True))
    demo_member = Member.objects.filter(user__email="member@demo.spotter").first()
    if not members:
        return
    sessions = list(
        ClassSession.objects.select_related("branch", "class_type").order_by("starts_at", "pk")
    )
    policies = selectors.policies_by_class_type({s.class_type_id for s in sessions})
    rules = _Eligibility(members)
    # A class in the coming week cancelled by the gym, as a gym would have.
    upcoming = [s for s in sessions if s.starts_at > now + timedelta(days=2)]
    cancelled_session = rng.choice(upcoming) if upcoming else None
    bookings, no_shows_charged = [], []
    for session in sessions:
        past = session.ends_at < now
        local = session.starts_at.astimezone(ZoneInfo(session.branch.timezone))
        policy = policies[session.class_type_id]
        # Popular evening classes fill up and grow a waitlist; mornings are quieter.
        demand = (
            session.capacity + rng.randint(0, 6)
            if session.starts_at.hour >= 17
            else rng.randint(session.capacity // 3, session.capacity)
        )
        order = rng.sample(members, len(members))
        if demo_member and rng.random() < 0.15:
            order.insert(0, demo_member.pk)
        people, seen = [], set()
        for member_id in order:
            if len(people) >= demand:
                break
            if member_id in seen:
                continue
            seen.add(member_id)
            membership = rules.membership_for(member_id, session, local)
            if membership is None:
                continue
            if membership.pk in rules.credits and rng.random() < 0.8:
                continue  # pack holders book sparingly: most keep credits for later
            people.append((member_id, membership))
        booked = waiting = 0
        for arrival, (member_id, membership) in enumerate(people, start=1):
            # Booked some hours to days ahead, and never later than now.
            created = min(session.starts_at - timedelta(hours=rng.randint(3, 200)), now)
            reason = ""
            if session is cancelled_session:
                status, reason = Booking.Status.CANCELLED, "Class cancelled by the gym"
            elif booked < session.capacity:
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
                if past:
                    reason = "Not promoted from the waitlist"
            keeps_credit = status in (
                Booking.Status.BOOKED,
                Booking.Status.WAITLISTED,
                Booking.Status.ATTENDED,
            ) or (
                status == Booking.Status.NO_SHOW
                and policy.no_show_penalty != BookingPolicy.Penalty.NONE
            )
            booking = Booking(
                session=session,
                member_id=member_id,
                membership=membership,
                credit_held=rules.take(
                    member_id, membership, local, status=status, credit=keeps_credit
                ),
                status=status,
                arrival=arrival,
                created_at=created,
                cancelled_at=(
                    (
                        now
                        if session is cancelled_session
                        else min(created + timedelta(hours=1), now)
                    )
                    if status == Booking.Status.CANCELLED
                    else None
                ),
                cancellation_reason=reason,
                attendance_marked_at=session.ends_at
                if status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
                else None,
            )
            bookings.append(booking)
            if status == Booking.Status.NO_SHOW and policy.no_show_penalty == (
                BookingPolicy.Penalty.FEE
            ):
                no_shows_charged.append((booking, session, policy.no_show_fee))
            booked += status in (
                Booking.Status.BOOKED,
                Booking.Status.ATTENDED,
                Booking.Status.NO_SHOW,
            )
            waiting += status == Booking.Status.WAITLISTED
        session.booked_count, session.waitlist_count, session.arrival_seq = (
            booked,
            waiting,
            len(people),
        )
    Booking.objects.bulk_create(bookings, batch_size=2000)
    ClassSession.objects.bulk_update(
        sessions, ["booked_count", "waitlist_count", "arrival_seq"], batch_size=1000
    )
    for membership_id, used in rules.credits_used().items():
        Membership.objects.filter(pk=membership_id).update(
            credits_remaining=F("credits_remaining") - used
        )
    for booking, session, fee in no_shows_charged:
        # The same charge (source, description) the settle job makes.
        booking.fee_charged = booking_fee_charge(
            booking=booking, session=session, amount=fee, kind="no_show", actor=None
        )
    Booking.objects.bulk_update([b for b, _s, _f in no_shows_charged], ["fee_charged"])
    if cancelled_session is not None:
        ClassSession.objects.filter(pk=cancelled_session.pk).update(
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
