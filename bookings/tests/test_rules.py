"""Who may book, when, and what a cancellation or no-show costs."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AuditLog
from accounts.tests.factories import BranchFactory, MemberFactory
from bookings import services
from bookings.models import Booking, BookingPolicy
from bookings.tests.factories import BookingPolicyFactory
from classes.models import ClassSession
from classes.tests.factories import ClassCategoryFactory, ClassTypeFactory
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.models import OutboxMessage
from memberships.models import Membership
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _credits(member):
    return Membership.objects.get(member=member).credits_remaining


# --- booking window ----------------------------------------------------------------


def test_booking_not_open_yet(in_gym, make_member, session_factory):
    # given a class 10 days away and the default 7-day window
    session = session_factory(starts_at=timezone.now() + timedelta(days=10))
    # when / then
    with pytest.raises(ServiceError) as exc:
        services.booking_create(session=session, member=make_member(), actor=None)
    assert exc.value.code == "booking_not_open"


def test_booking_closes_before_start(in_gym, gym, make_member, session_factory):
    # given booking closes 30 minutes before the start
    BookingPolicyFactory(organisation=gym, booking_closes_minutes=30)
    session = session_factory(starts_at=timezone.now() + timedelta(minutes=20))
    # when / then
    with pytest.raises(ServiceError) as exc:
        services.booking_create(session=session, member=make_member(), actor=None)
    assert exc.value.code == "booking_closed"


def test_class_type_policy_overrides_organisation_policy(in_gym, gym, make_member, session_factory):
    # given the gym opens booking 7 days ahead but this class type 14 days ahead
    session = session_factory(starts_at=timezone.now() + timedelta(days=10))
    BookingPolicyFactory(organisation=gym, booking_opens_days=7)
    BookingPolicyFactory(organisation=gym, class_type=session.class_type, booking_opens_days=14)
    # when
    booking = services.booking_create(session=session, member=make_member(), actor=None)
    # then
    assert booking.status == Booking.Status.BOOKED


def test_cannot_book_a_started_or_cancelled_class(in_gym, make_member, session_factory):
    started = session_factory(starts_at=timezone.now() - timedelta(minutes=5))
    cancelled = session_factory(status=ClassSession.Status.CANCELLED)
    for session, code in ((started, "session_started"), (cancelled, "session_cancelled")):
        with pytest.raises(ServiceError) as exc:
            services.booking_create(session=session, member=make_member(), actor=None)
        assert exc.value.code == code


# --- who may book ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "status,code",
    [
        (Membership.Status.FROZEN, "membership_frozen"),
        (Membership.Status.PAST_DUE, "membership_past_due"),
        (Membership.Status.CANCELLED, "membership_cancelled"),
    ],
)
def test_membership_must_be_active(in_gym, make_member, session_factory, status, code):
    # given a member whose membership is not active
    member = make_member()
    Membership.objects.filter(member=member).update(status=status)
    # when / then nothing is booked
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    assert exc.value.code == code
    assert not Booking.objects.exists()


def test_no_membership(in_gym, branch, session_factory):
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(
            session=session_factory(), member=MemberFactory(home_branch=branch), actor=None
        )
    assert exc.value.code == "no_membership"


def test_plan_must_include_branch_category_and_time(
    in_gym, gym, branch, other_branch, make_member, session_factory
):
    # given a plan for the other branch, only yoga, off-peak 10:00-16:00
    yoga = ClassCategoryFactory(organisation=gym, slug="yoga")
    plan = PlanFactory(organisation=gym)
    plan.branches.add(other_branch)
    member = make_member(plan=plan)
    # when booking here
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    assert exc.value.code == "plan_branch"
    # and a spin class in the right branch
    plan.branches.set([branch])
    plan.class_categories.add(yoga)
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    assert exc.value.code == "plan_category"
    # and a yoga class at 07:00 local on an off-peak plan
    plan.access_from, plan.access_until = "10:00", "16:00"
    plan.save()
    from classes.services import local_datetime

    early = local_datetime(timezone.localdate() + timedelta(days=2), "07:00", branch.timezone)
    yoga_type = ClassTypeFactory(organisation=gym, category=yoga)
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(
            session=session_factory(class_type=yoga_type, starts_at=early),
            member=member,
            actor=None,
        )
    assert exc.value.code == "plan_time"


def test_weekly_attendance_limit(in_gym, gym, make_member, session_factory):
    # given a plan allowing 2 classes a week and three classes in one local week
    member = make_member(plan=PlanFactory(organisation=gym, weekly_attendance_limit=2))
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    from classes.services import local_datetime

    sessions = [
        session_factory(
            starts_at=local_datetime(monday + timedelta(days=d), "18:00", "Europe/London")
        )
        for d in (0, 1, 2)
    ]
    BookingPolicyFactory(organisation=gym, booking_opens_days=14)
    services.booking_create(session=sessions[0], member=member, actor=None)
    services.booking_create(session=sessions[1], member=member, actor=None)
    # when booking a third
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=sessions[2], member=member, actor=None)
    # then the limit applies; a cancelled booking gives the allowance back
    assert exc.value.code == "weekly_limit"
    services.booking_cancel(booking=Booking.objects.filter(member=member).first(), actor=None)
    assert (
        services.booking_create(session=sessions[2], member=member, actor=None).status == "booked"
    )


def test_waitlist_place_does_not_count_towards_the_weekly_limit(
    in_gym, gym, make_member, session_factory
):
    # given: a plan allowing one class a week, and a full class the member waits for
    from classes.services import local_datetime

    member = make_member(plan=PlanFactory(organisation=gym, weekly_attendance_limit=1))
    monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())
    full = session_factory(capacity=1, starts_at=local_datetime(monday, "18:00", "Europe/London"))
    open_class = session_factory(
        starts_at=local_datetime(monday + timedelta(days=1), "18:00", "Europe/London")
    )
    BookingPolicyFactory(organisation=gym, booking_opens_days=14)
    first = services.booking_create(session=full, member=make_member(), actor=None)
    waiting = services.booking_create(session=full, member=member, actor=None)
    assert waiting.status == "waitlisted"

    # when: they book an open class that week
    booked = services.booking_create(session=open_class, member=member, actor=None)

    # then: it is theirs; and when the full class frees up, they are not moved in over
    # their limit
    assert booked.status == "booked"
    services.booking_cancel(booking=first, actor=None)
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"


def test_credits_are_used_and_run_out(in_gym, make_member, class_pack, session_factory):
    # given a class pack with one credit left
    member = make_member(plan=class_pack)
    Membership.objects.filter(member=member).update(credits_remaining=1)
    # when booking twice
    services.booking_create(session=session_factory(), member=member, actor=None)
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    # then the second is refused for lack of credits
    assert exc.value.code == "no_credits"
    assert _credits(member) == 0


def test_archived_member_cannot_book(in_gym, make_member, session_factory):
    member = make_member(status="archived")
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    assert exc.value.code == "member_archived"


# --- household and staff -----------------------------------------------------------------


def test_payer_books_for_a_dependant_on_the_dependants_membership(
    in_gym, gym, branch, make_member, class_pack, session_factory
):
    # given a payer and a child with no email, whose class pack the payer pays for
    payer = make_member()
    child = MemberFactory(
        home_branch=branch, user=None, email="", payer=payer, first_name="Kid", last_name="Doe"
    )
    MembershipFactory(
        member=child, organisation=gym, plan=class_pack, start_date=timezone.localdate()
    )
    # when the payer books the child in
    booking = services.booking_create(session=session_factory(), member=child, actor=payer.user)
    # then the child holds the place on their own membership and the payer is emailed
    assert booking.member == child and booking.membership.member == child
    assert booking.booked_by == payer.user
    assert Membership.objects.get(member=child).credits_remaining == class_pack.credits - 1
    assert OutboxMessage.objects.get(kind="email").payload["to"] == [payer.email]


def test_a_day_pass_for_another_branch_does_not_stop_booking_at_home(
    in_gym, gym, branch, other_branch, make_member, session_factory
):
    # given a member of this branch who bought a day pass for the other branch today:
    # the pass is the newer membership, so it is the one that decides
    member = make_member()
    home = member.test_membership
    day_pass = PlanFactory(organisation=gym, entry_ticket=True)
    day_pass.branches.set([other_branch])
    MembershipFactory(member=member, organisation=gym, plan=day_pass)
    session = session_factory(starts_at=timezone.now() + timedelta(hours=3))
    # when they book a class at home
    booking = services.booking_create(session=session, member=member, actor=None)
    # then it is booked on their own membership
    assert (booking.status, booking.membership_id) == (Booking.Status.BOOKED, home.pk)
    # and with only the pass, the refusal is the pass's
    Membership.objects.filter(pk=home.pk).update(status=Membership.Status.CANCELLED)
    services.booking_cancel(booking=booking, actor=None)
    with pytest.raises(NotAllowed) as exc:
        services.booking_create(session=session_factory(), member=member, actor=None)
    assert exc.value.code == "plan_branch"


def test_staff_override_skips_rules_but_not_capacity(in_gym, branch, session_factory, staff_user):
    # given a member without membership and a class that is not open for booking yet
    member = MemberFactory(home_branch=branch)
    session = session_factory(starts_at=timezone.now() + timedelta(days=20), capacity=1)
    # when staff book them with an override
    booking = services.booking_create(
        session=session, member=member, actor=staff_user, override=True, override_reason="VIP"
    )
    # then it is booked, marked as an override and audited
    assert booking.status == "booked" and booking.is_override
    assert AuditLog.objects.filter(action="booking.override", target_id=str(booking.pk)).exists()
    # and the capacity still holds: the next override joins the waitlist
    other = services.booking_create(
        session=session, member=MemberFactory(home_branch=branch), actor=staff_user, override=True
    )
    assert other.status == "waitlisted"


# --- cancellation --------------------------------------------------------------------


def test_cancel_before_cutoff_returns_the_credit(in_gym, make_member, class_pack, session_factory):
    member = make_member(plan=class_pack)
    booking = services.booking_create(session=session_factory(), member=member, actor=None)
    assert _credits(member) == 9
    # when cancelled two days ahead (cut-off 2 hours)
    booking = services.booking_cancel(booking=booking, actor=None)
    # then
    assert booking.status == "cancelled" and _credits(member) == 10
    assert ClassSession.objects.get(pk=booking.session_id).booked_count == 0


def test_late_cancel_forfeits_the_credit(in_gym, make_member, class_pack, session_factory):
    # given a class in one hour, cut-off two hours
    member = make_member(plan=class_pack)
    session = session_factory(starts_at=timezone.now() + timedelta(hours=1))
    booking = services.booking_create(session=session, member=member, actor=None)
    # when
    booking = services.booking_cancel(booking=booking, actor=None)
    # then
    assert booking.status == "late_cancelled" and _credits(member) == 9


def test_late_cancel_without_penalty_returns_credit(
    in_gym, gym, make_member, class_pack, session_factory
):
    BookingPolicyFactory(organisation=gym, late_cancel_penalty=BookingPolicy.Penalty.NONE)
    member = make_member(plan=class_pack)
    session = session_factory(starts_at=timezone.now() + timedelta(hours=1))
    booking = services.booking_cancel(
        booking=services.booking_create(session=session, member=member, actor=None), actor=None
    )
    assert booking.status == "late_cancelled" and _credits(member) == 10


def test_staff_can_waive_a_late_cancel(
    in_gym, make_member, class_pack, session_factory, staff_user
):
    member = make_member(plan=class_pack)
    session = session_factory(starts_at=timezone.now() + timedelta(hours=1))
    booking = services.booking_create(session=session, member=member, actor=None)
    booking = services.booking_cancel(booking=booking, actor=staff_user, waive_penalty=True)
    assert booking.status == "late_cancelled" and _credits(member) == 10
    assert AuditLog.objects.filter(action="booking.cancel_waived").exists()


def test_cannot_cancel_twice(in_gym, make_member, session_factory):
    booking = services.booking_create(session=session_factory(), member=make_member(), actor=None)
    services.booking_cancel(booking=booking, actor=None)
    with pytest.raises(Conflict):
        services.booking_cancel(booking=booking, actor=None)


def test_cancelled_member_may_book_again(in_gym, make_member, session_factory):
    member, session = make_member(), session_factory()
    services.booking_cancel(
        booking=services.booking_create(session=session, member=member, actor=None), actor=None
    )
    again = services.booking_create(session=session, member=member, actor=None)
    assert again.status == "booked" and again.arrival == 2


# --- attendance and no-shows ---------------------------------------------------------------


def test_mark_attended_and_no_show(in_gym, make_member, class_pack, session_factory):
    session = session_factory(starts_at=timezone.now() + timedelta(minutes=10))
    a = services.booking_create(session=session, member=make_member(), actor=None)
    b = services.booking_create(session=session, member=make_member(plan=class_pack), actor=None)
    assert services.booking_mark_attended(booking=a, actor=None).status == "attended"
    assert services.booking_mark_no_show(booking=b, actor=None).status == "no_show"
    # a trainer can correct a no-show who turned up late
    assert services.booking_mark_attended(booking=b, actor=None).status == "attended"
    with pytest.raises(Conflict):
        services.booking_mark_no_show(booking=a, actor=None)


def test_attendance_not_taken_long_before_the_class(in_gym, make_member, session_factory):
    booking = services.booking_create(session=session_factory(), member=make_member(), actor=None)
    with pytest.raises(ServiceError) as exc:
        services.booking_mark_attended(booking=booking, actor=None)
    assert exc.value.code == "too_early"


def test_finished_class_settles_no_shows_and_closes_the_waitlist(
    in_gym, gym, make_member, class_pack, session_factory
):
    # given a one-place class: one booked, one waiting; no-shows cost nothing here
    BookingPolicyFactory(organisation=gym, no_show_penalty=BookingPolicy.Penalty.NONE)
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=30))
    booked_member, waiting_member = make_member(plan=class_pack), make_member(plan=class_pack)
    booked = services.booking_create(session=session, member=booked_member, actor=None)
    waiting = services.booking_create(  # joined hours ago, while the waitlist was open
        session=session, member=waiting_member, actor=None, now=timezone.now() - timedelta(hours=3)
    )
    # when the class has ended and the periodic job runs
    later = session.ends_at + timedelta(minutes=1)
    assert services.bookings_settle_finished(now=later) == 2
    # then the booked member is a no-show (credit back under this policy),
    # the waiting one cancelled
    booked.refresh_from_db()
    waiting.refresh_from_db()
    assert booked.status == "no_show" and _credits(booked_member) == 10
    assert waiting.status == "cancelled" and _credits(waiting_member) == 10
    # and a second run changes nothing
    assert services.bookings_settle_finished(now=later) == 0


def test_no_show_forfeits_by_default(in_gym, make_member, class_pack, session_factory):
    member = make_member(plan=class_pack)
    session = session_factory(starts_at=timezone.now() + timedelta(minutes=30))
    services.booking_create(session=session, member=member, actor=None)
    services.bookings_settle_finished(now=session.ends_at + timedelta(minutes=1))
    assert Booking.objects.get(member=member).status == "no_show"
    assert _credits(member) == 9


def _free_no_show(gym, make_member, class_pack, session_factory):
    """A class-pack member marked no-show where no-shows cost nothing: the no-show
    gave the class credit back. Returns the member, the booking and a time after."""
    BookingPolicyFactory(organisation=gym, no_show_penalty=BookingPolicy.Penalty.NONE)
    member = make_member(plan=class_pack)
    session = session_factory(starts_at=timezone.now() + timedelta(minutes=30))
    booking = services.booking_create(session=session, member=member, actor=None)
    later = session.ends_at + timedelta(minutes=1)
    services.booking_mark_no_show(booking=booking, actor=None, now=later)
    assert _credits(member) == 10
    return member, booking, later


def test_no_show_corrected_to_attended_takes_the_returned_credit_again(
    in_gym, gym, make_member, class_pack, session_factory
):
    member, booking, later = _free_no_show(gym, make_member, class_pack, session_factory)
    # when the trainer corrects it: they did come
    services.booking_mark_attended(booking=booking, actor=None, now=later)
    # then the class used a credit after all
    booking.refresh_from_db()
    assert booking.status == "attended" and booking.credit_held
    assert _credits(member) == 9


def test_the_correction_stands_when_no_credit_is_left(
    in_gym, gym, make_member, class_pack, session_factory
):
    member, booking, later = _free_no_show(gym, make_member, class_pack, session_factory)
    Membership.objects.filter(member=member).update(credits_remaining=0)
    services.booking_mark_attended(booking=booking, actor=None, now=later)
    booking.refresh_from_db()
    assert booking.status == "attended" and not booking.credit_held
    assert _credits(member) == 0


# --- the database's own guards -----------------------------------------------------------


def test_database_refuses_overbooking_and_double_places(in_gym, make_member, session_factory):
    session = session_factory(capacity=1)
    member = make_member()
    booking = services.booking_create(session=session, member=member, actor=None)
    # a buggy update past capacity is refused by the check constraint
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassSession.objects.filter(pk=session.pk).update(booked_count=2)
    # a second active row for the same member and session is refused by the partial unique index
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            session=session, member=member, status="waitlisted", arrival=booking.arrival + 1
        )


def test_other_gyms_sessions_are_invisible(in_gym, other_gym, make_member):
    from accounts.tenancy import tenant_scope
    from classes.tests.factories import ClassSessionFactory

    with tenant_scope(other_gym):
        foreign = ClassSessionFactory(
            organisation=other_gym, branch=BranchFactory(organisation=other_gym)
        )
    with pytest.raises(ServiceError) as exc:
        services.booking_create(session=foreign.pk, member=make_member(), actor=None)
    assert exc.value.code == "not_found"


def test_the_rules_name_days_in_the_members_language(in_gym, session_factory):
    from datetime import UTC, datetime

    from django.utils import translation

    from bookings import selectors

    # a Monday class, 18:00 in London: free cancellation until Monday 16:00
    session = session_factory(starts_at=datetime(2027, 3, 1, 18, 0, tzinfo=UTC))
    policy = selectors.policy_for(class_type_id=session.class_type_id)
    with translation.override("de"):
        first = selectors.rules_summary(session=session, policy=policy)[0]
    assert "Mo 1 Mär 16:00" in first
