"""Real threads against PostgreSQL: no overbooking, no double places, exact promotions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from bookings import services
from bookings.models import Appointment, Booking
from bookings.tests.factories import AppointmentServiceFactory, TrainerAvailabilityFactory
from classes.models import ClassSession
from classes.services import session_set_capacity
from gymsite.errors import Conflict
from memberships.models import Membership
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _members_with_plans(gym, branch, count, plan=None):
    plan = plan or PlanFactory(organisation=gym)
    members = []
    for _ in range(count):
        member = MemberFactory(home_branch=branch)
        MembershipFactory(
            member=member,
            organisation=gym,
            plan=plan,
            start_date=timezone.localdate() - timedelta(days=1),
        )
        members.append(member)
    return members


def test_200_members_racing_for_20_places(gym, branch, session_factory, concurrently):
    # given a 20-place class and 200 members with active memberships
    session = session_factory(capacity=20)
    members = _members_with_plans(gym, branch, 200)

    # when they all book at once (30 connections racing through a barrier)
    results = concurrently(
        [
            lambda m=m: services.booking_create(session=session.pk, member=m, actor=m.user)
            for m in members
        ]
    )

    # then every request got an answer, exactly 20 are booked and 180 waitlisted
    assert all(isinstance(r, Booking) for r in results), [
        r for r in results if not isinstance(r, Booking)
    ][:3]
    with tenant_scope(gym):
        bookings = list(Booking.objects.filter(session=session).order_by("arrival"))
        session.refresh_from_db()
    statuses = [b.status for b in bookings]
    assert statuses.count(Booking.Status.BOOKED) == 20
    assert statuses.count(Booking.Status.WAITLISTED) == 180
    assert len({b.member_id for b in bookings}) == 200
    # arrival = order in which each transaction acquired the session lock: a strict
    # sequence 1..200 with no gap or repeat; the first 20 got places, the rest queue in order
    assert [b.arrival for b in bookings] == list(range(1, 201))
    assert all(b.status == Booking.Status.BOOKED for b in bookings[:20])
    assert all(b.status == Booking.Status.WAITLISTED for b in bookings[20:])
    with tenant_scope(gym):
        from bookings.selectors import waitlist_positions

        positions = waitlist_positions(bookings)
    assert [positions[b.pk] for b in bookings[20:]] == list(range(1, 181))
    assert (session.booked_count, session.waitlist_count, session.arrival_seq) == (20, 180, 200)


def test_one_member_firing_ten_requests_holds_one_place(gym, branch, session_factory, concurrently):
    # given a member with a 10-credit class pack
    session = session_factory(capacity=20)
    (member,) = _members_with_plans(
        gym, branch, 1, plan=PlanFactory(organisation=gym, class_pack=True)
    )

    # when ten requests for the same class arrive together
    results = concurrently(
        [lambda: services.booking_create(session=session.pk, member=member, actor=None)] * 10
    )

    # then one place is held, nine were refused as duplicates, and one credit was used
    booked = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(booked) == 1 and len(refused) == 9
    assert {r.code for r in refused} == {"already_booked"}
    with tenant_scope(gym):
        assert Booking.objects.filter(session=session, member=member).count() == 1
        assert Membership.objects.get(member=member).credits_remaining == 9
        assert ClassSession.objects.get(pk=session.pk).booked_count == 1


def test_concurrent_cancellations_promote_as_many_as_freed(
    gym, branch, session_factory, concurrently
):
    # given a full 10-place class with 10 people waiting
    session = session_factory(capacity=10)
    members = _members_with_plans(gym, branch, 20)
    with tenant_scope(gym):
        bookings = [
            services.booking_create(session=session.pk, member=m, actor=None) for m in members
        ]
    booked, waiting = bookings[:10], bookings[10:]

    # when six booked members cancel at the same moment
    results = concurrently(
        [lambda b=b: services.booking_cancel(booking=b.pk, actor=None) for b in booked[:6]]
    )

    # then exactly six people were promoted: the first six in the queue
    assert all(isinstance(r, Booking) for r in results), results
    with tenant_scope(gym):
        session.refresh_from_db()
        promoted = Booking.objects.filter(pk__in=[b.pk for b in waiting], status="booked")
        assert sorted(promoted.values_list("arrival", flat=True)) == list(range(11, 17))
        assert Booking.objects.filter(session=session, status="booked").count() == 10
    assert (session.booked_count, session.waitlist_count) == (10, 4)


def test_cancellations_bookings_and_capacity_changes_together_never_overbook(
    gym, branch, session_factory, concurrently
):
    # given a full class with a waitlist, and newcomers arriving while people cancel
    session = session_factory(capacity=8)
    members = _members_with_plans(gym, branch, 30)
    with tenant_scope(gym):
        first = [
            services.booking_create(session=session.pk, member=m, actor=None) for m in members[:14]
        ]

    # when cancellations, new bookings and a capacity rise all race (lock order holds: no deadlock)
    jobs = [lambda b=b: services.booking_cancel(booking=b.pk, actor=None) for b in first[:5]]
    jobs += [
        lambda m=m: services.booking_create(session=session.pk, member=m, actor=None)
        for m in members[14:]
    ]
    jobs.append(lambda: session_set_capacity(session=session.pk, capacity=10, actor=None))
    results = concurrently(jobs)

    # then nothing failed, and the counters agree with the rows and the capacity
    assert not [r for r in results if isinstance(r, Exception)]
    with tenant_scope(gym):
        session.refresh_from_db()
        booked = Booking.objects.filter(session=session, status="booked").count()
        waiting = Booking.objects.filter(session=session, status="waitlisted").count()
    assert session.capacity == 10
    assert booked == session.booked_count == 10
    assert waiting == session.waitlist_count == 30 - 5 - 10


def test_two_members_booking_the_same_pt_slot(gym, branch, concurrently):
    # given a trainer free on a day and two members who want the same hour
    trainer = TrainerProfileFactory(organisation=gym)
    day = timezone.localdate() + timedelta(days=3)
    TrainerAvailabilityFactory(
        organisation=gym, branch=branch, trainer=trainer, weekday=day.weekday()
    )
    service = AppointmentServiceFactory(organisation=gym)
    members = [MemberFactory(home_branch=branch) for _ in range(2)]
    from classes.services import local_datetime

    starts_at = local_datetime(day, __import__("datetime").time(10, 0), branch.timezone)

    # when both book at once
    results = concurrently(
        [
            lambda m=m: services.appointment_book(
                service=service,
                trainer=trainer,
                member=m,
                branch=branch,
                starts_at=starts_at,
                actor=None,
            )
            for m in members
        ]
    )

    # then exactly one succeeds
    assert len([r for r in results if isinstance(r, Appointment)]) == 1
    assert [r.code for r in results if isinstance(r, Conflict)] == ["slot_taken"]
    with tenant_scope(gym):
        assert Appointment.objects.filter(trainer=trainer).count() == 1


def test_session_cancel_racing_new_bookings_leaves_nothing_behind(
    gym, branch, session_factory, concurrently
):
    # given class-pack members, some already booked
    session = session_factory(capacity=5)
    pack = PlanFactory(organisation=gym, class_pack=True)
    members = _members_with_plans(gym, branch, 25, plan=pack)
    with tenant_scope(gym):
        for m in members[:8]:
            services.booking_create(session=session.pk, member=m, actor=None)

    # when the gym cancels the class while others are booking it
    from classes.services import session_cancel

    jobs = [
        lambda m=m: services.booking_create(session=session.pk, member=m, actor=None)
        for m in members[8:]
    ]
    jobs.insert(5, lambda: session_cancel(session=session.pk, actor=None, reason="Flood"))
    results = concurrently(jobs)

    # then no deadlock or crash: late bookers were told the class is cancelled, and
    # every booking that got in is cancelled with its credit back
    unexpected = [
        r
        for r in results
        if isinstance(r, Exception) and getattr(r, "code", None) != "session_cancelled"
    ]
    assert not unexpected, unexpected
    with tenant_scope(gym):
        session.refresh_from_db()
        assert session.status == "cancelled"
        assert (session.booked_count, session.waitlist_count) == (0, 0)
        assert not Booking.objects.filter(session=session, status__in=Booking.ACTIVE).exists()
        credits = set(
            Membership.objects.filter(member__in=members).values_list(
                "credits_remaining", flat=True
            )
        )
    assert credits == {pack.credits}
