"""Periodic jobs run per gym; the demo seed is quick and idempotent."""

import random
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.tenancy import tenant_scope
from bookings import tasks as booking_tasks
from bookings.models import Booking
from classes import tasks as class_tasks
from classes.models import ClassSession
from classes.tests.factories import ClassScheduleFactory

pytestmark = pytest.mark.django_db


def test_materialise_task_covers_every_gym(gym, other_gym, branch, foreign_branch):
    ClassScheduleFactory(organisation=gym, branch=branch, weekdays=list(range(7)))
    ClassScheduleFactory(organisation=other_gym, branch=foreign_branch, weekdays=[0])
    assert class_tasks.classes_materialise_sessions() > 0
    assert ClassSession.objects.unscoped().filter(organisation=gym).count() >= 6 * 7
    assert ClassSession.objects.unscoped().filter(organisation=other_gym).exists()
    assert class_tasks.classes_materialise_sessions() == 0


def test_reminder_and_settle_tasks(gym, make_member, session_factory):
    from bookings import services

    soon = session_factory(starts_at=timezone.now() + timedelta(hours=3))
    with tenant_scope(gym):
        booking = services.booking_create(session=soon, member=make_member(), actor=None)
    assert booking_tasks.bookings_send_reminders() == 1
    ClassSession.objects.unscoped().filter(pk=soon.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert booking_tasks.bookings_settle_finished() == 1
    assert Booking.objects.unscoped().get(pk=booking.pk).status == "no_show"


def test_demo_seed_follows_the_rules_and_uses_credits(settings):
    from django.db.models import Count, Q

    from accounts import demo as accounts_demo
    from accounts.models import Organisation
    from billing.models import PendingCharge
    from bookings import demo as bookings_demo
    from bookings import selectors
    from classes import demo as classes_demo
    from memberships import demo as memberships_demo
    from memberships.models import Membership

    settings.BILLING_SANDBOX_ENABLED = True
    gym = Organisation.objects.create(name="Demo", slug="demo", currency="GBP")
    rng = random.Random(1)
    with tenant_scope(gym):
        accounts_demo.seed(organisation=gym, rng=rng)
        memberships_demo.seed(organisation=gym, rng=rng)
        credits_before = dict(
            Membership.objects.filter(credits_remaining__isnull=False).values_list(
                "pk", "credits_remaining"
            )
        )
        classes_demo.seed(organisation=gym, rng=rng)
        bookings_demo.seed(organisation=gym, rng=rng)
        sessions = ClassSession.objects.all()
        assert sessions.values("branch").distinct().count() == 3
        assert sessions.filter(starts_at__lt=timezone.now()).exists()
        assert sessions.filter(starts_at__gt=timezone.now() + timedelta(days=10)).exists()
        statuses = set(Booking.objects.values_list("status", flat=True))
        assert {"attended", "no_show", "booked", "waitlisted"} <= statuses
        # nothing was booked or cancelled in the future
        later = timezone.now() + timedelta(seconds=1)
        assert not Booking.objects.filter(
            Q(created_at__gt=later) | Q(cancelled_at__gt=later)
        ).exists()
        # counters equal the rows
        for session in sessions.annotate(
            booked=Count(
                "bookings", filter=Q(bookings__status__in=["booked", "attended", "no_show"])
            ),
            waiting=Count("bookings", filter=Q(bookings__status="waitlisted")),
        ):
            assert session.booked_count <= session.capacity
            assert (session.booked_count, session.waitlist_count) == (
                session.booked,
                session.waiting,
            )
        # every place is on the member's own membership, which allowed it
        assert not Booking.objects.filter(membership__isnull=True).exists()
        assert not Booking.objects.exclude(membership__member=F("member")).exists()
        # credit-based memberships paid for their places: credits left = before - held
        held = dict(
            Booking.objects.filter(credit_held=True)
            .values_list("membership")
            .annotate(n=Count("pk"))
        )
        assert held, "some demo places are paid with class credits"
        for membership_id, before in credits_before.items():
            left = Membership.objects.get(pk=membership_id).credits_remaining
            assert left == before - held.get(membership_id, 0) >= 0
        assert not Booking.objects.filter(
            credit_held=True, status__in=["cancelled", "late_cancelled"]
        ).exists()
        # no-shows under the default rules (5.00 fee) are charged through billing
        no_shows = Booking.objects.filter(status="no_show")
        charged = no_shows.filter(fee_charged__gt=0)
        assert charged.exists()
        assert PendingCharge.objects.filter(source_type="bookings.booking.no_show").count() == (
            charged.count()
        )
        # upcoming places pass the same eligibility check a booking makes (status on the
        # day, branch, category, off-peak hours, weekly limit) on the membership used
        upcoming = Booking.objects.filter(
            status="booked", session__starts_at__gt=timezone.now()
        ).select_related("member", "session__branch", "session__class_type")
        assert upcoming.exists()
        for booking in upcoming[:150]:
            assert booking.membership_id == (
                selectors.member_eligible_membership(
                    member=booking.member,
                    session=booking.session,
                    exclude_booking_id=booking.pk,
                    require_credit=False,
                ).pk
            )
        # nobody went over their plan's weekly limit
        for booking in Booking.objects.filter(
            membership__plan__weekly_attendance_limit__isnull=False,
            status__in=selectors.WEEKLY_LIMIT_STATUSES,
        ).select_related("session__branch", "membership__plan")[:200]:
            selectors.check_weekly_limit(
                member=booking.member,
                session=booking.session,
                limit=booking.membership.plan.weekly_attendance_limit + 1,
            )
        count = Booking.objects.count()
        classes_demo.seed(organisation=gym, rng=rng)
        bookings_demo.seed(organisation=gym, rng=rng)
        assert Booking.objects.count() == count
