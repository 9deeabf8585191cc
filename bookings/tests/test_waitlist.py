"""First come, first served waitlist: positions, promotion, cut-off, leaving."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings import selectors, services
from bookings.models import Booking
from bookings.tests.factories import BookingPolicyFactory
from classes import services as class_services
from classes.models import ClassSession
from gymsite.errors import Conflict
from gymsite.models import OutboxMessage
from gymsite.outbox import rendered_email
from memberships.models import Membership

pytestmark = pytest.mark.django_db


def _fill(session, make_member, n, now=None, **kw):
    return [
        services.booking_create(session=session, member=make_member(**kw), actor=None, now=now)
        for _ in range(n)
    ]


# Hours before a class that starts within the hour: its waitlist was still open.
def _earlier():
    return timezone.now() - timedelta(hours=3)


def test_full_class_puts_people_on_the_waitlist_in_order(in_gym, make_member, session_factory):
    # given a 2-place class
    session = session_factory(capacity=2)
    # when four people book
    bookings = _fill(session, make_member, 4)
    # then two are booked and two wait, positions 1 and 2
    assert [b.status for b in bookings] == ["booked", "booked", "waitlisted", "waitlisted"]
    assert [selectors.waitlist_position(booking=b) for b in bookings] == [None, None, 1, 2]
    session.refresh_from_db()
    assert (session.booked_count, session.waitlist_count) == (2, 2)
    assert OutboxMessage.objects.filter(payload__template="bookings/waitlisted").count() == 2


def test_cancellation_promotes_the_first_in_line_and_tells_them(
    in_gym, make_member, session_factory
):
    session = session_factory(capacity=1)
    first, second, third = _fill(session, make_member, 3)
    # when the booked member cancels
    services.booking_cancel(booking=first, actor=None)
    # then the first in line is booked (same transaction) and emailed; the other moves up
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == "booked" and second.promoted_at is not None
    assert selectors.waitlist_position(booking=third) == 1
    promoted_mail = OutboxMessage.objects.get(dedupe_key=f"booking-{second.pk}-promoted")
    assert promoted_mail.payload["to"] == [second.member.email]
    assert "You're in" in rendered_email(promoted_mail.payload)["subject"]


def test_no_promotion_inside_the_promotion_cutoff(in_gym, gym, make_member, session_factory):
    # given a class starting in 45 minutes; promotion stops 60 minutes before; cancellation is free
    BookingPolicyFactory(
        organisation=gym, promotion_cutoff_minutes=60, cancellation_cutoff_minutes=0
    )
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=45))
    first, second = _fill(session, make_member, 2, now=_earlier())
    # when the booked member cancels
    services.booking_cancel(booking=first, actor=None)
    # then nobody is moved in: the place is left for direct booking
    second.refresh_from_db()
    assert second.status == "waitlisted"
    session.refresh_from_db()
    assert (session.booked_count, session.waitlist_count) == (0, 1)


def test_promotion_just_before_the_cutoff(in_gym, gym, make_member, session_factory):
    BookingPolicyFactory(
        organisation=gym, promotion_cutoff_minutes=60, cancellation_cutoff_minutes=0
    )
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=75))
    first, second = _fill(session, make_member, 2)
    services.booking_cancel(booking=first, actor=None)
    second.refresh_from_db()
    assert second.status == "booked"


def test_raising_capacity_promotes(in_gym, make_member, session_factory):
    session = session_factory(capacity=1)
    bookings = _fill(session, make_member, 4)
    # when staff raise the capacity to 3
    class_services.session_set_capacity(session=session, capacity=3, actor=None)
    # then the first two waiting are in
    assert [Booking.objects.get(pk=b.pk).status for b in bookings] == [
        "booked",
        "booked",
        "booked",
        "waitlisted",
    ]


def test_capacity_cannot_drop_below_booked(in_gym, make_member, session_factory):
    session = session_factory(capacity=3)
    _fill(session, make_member, 3)
    with pytest.raises(Exception) as exc:
        class_services.session_set_capacity(session=session, capacity=2, actor=None)
    assert exc.value.code == "capacity_below_booked"


def test_leaving_the_waitlist_returns_the_held_credit(
    in_gym, make_member, class_pack, session_factory
):
    session = session_factory(capacity=1)
    _fill(session, make_member, 1)
    member = make_member(plan=class_pack)
    waiting = services.booking_create(session=session, member=member, actor=None)
    assert waiting.status == "waitlisted"
    assert (
        Membership.objects.get(member=member).credits_remaining == 9
    )  # a waitlist place holds a credit
    # when the member leaves the waitlist (even an hour before the class: never a penalty)
    left = services.booking_cancel(booking=waiting, actor=None)
    # then
    assert left.status == "cancelled"
    assert Membership.objects.get(member=member).credits_remaining == 10
    assert ClassSession.objects.get(pk=session.pk).waitlist_count == 0


def test_ineligible_waiting_member_is_skipped(in_gym, make_member, session_factory):
    # given two people waiting; the first's membership is frozen meanwhile
    session = session_factory(capacity=1)
    first, frozen, next_ = _fill(session, make_member, 3)
    Membership.objects.filter(member=frozen.member).update(status=Membership.Status.FROZEN)
    # when a place frees
    services.booking_cancel(booking=first, actor=None)
    # then the next eligible person gets it; the frozen member keeps their queue place
    assert Booking.objects.get(pk=next_.pk).status == "booked"
    assert Booking.objects.get(pk=frozen.pk).status == "waitlisted"


def test_waitlist_disabled_means_full(in_gym, gym, make_member, session_factory):
    BookingPolicyFactory(organisation=gym, waitlist_enabled=False)
    session = session_factory(capacity=1)
    _fill(session, make_member, 1)
    with pytest.raises(Conflict) as exc:
        services.booking_create(session=session, member=make_member(), actor=None)
    assert exc.value.code == "session_full"


def test_staff_manual_promotion(in_gym, gym, make_member, session_factory, staff_user):
    # given a full class 30 minutes away (inside the promotion cut-off) with two waiting
    BookingPolicyFactory(organisation=gym, cancellation_cutoff_minutes=0)
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=30))
    first, second, third = _fill(session, make_member, 3, now=_earlier())
    # the class is full: promotion needs a place
    with pytest.raises(Conflict):
        services.booking_promote(booking=third, actor=staff_user)
    services.booking_cancel(booking=first, actor=None)
    assert Booking.objects.get(pk=second.pk).status == "waitlisted"  # no automatic promotion
    # when staff pick the third person for the free place
    services.booking_promote(booking=third, actor=staff_user)
    # then they are in, ahead of the queue, and it is audited
    assert Booking.objects.get(pk=third.pk).status == "booked"
    assert Booking.objects.get(pk=second.pk).status == "waitlisted"
    from accounts.models import AuditLog

    assert AuditLog.objects.filter(action="booking.promote", target_id=str(third.pk)).exists()


def test_session_cancel_cancels_everyone_returns_credits_and_tells_them(
    in_gym, make_member, class_pack, session_factory, staff_user
):
    session = session_factory(capacity=1)
    booked = services.booking_create(
        session=session, member=make_member(plan=class_pack), actor=None
    )
    waiting = services.booking_create(
        session=session, member=make_member(plan=class_pack), actor=None
    )
    # when the gym cancels the class
    from classes.services import session_cancel

    session_cancel(session=session, actor=staff_user, reason="Instructor ill")
    # then
    session.refresh_from_db()
    assert session.status == "cancelled" and (session.booked_count, session.waitlist_count) == (
        0,
        0,
    )
    for booking in (booked, waiting):
        booking.refresh_from_db()
        assert booking.status == "cancelled"
        assert Membership.objects.get(member=booking.member).credits_remaining == 10
        assert OutboxMessage.objects.filter(
            dedupe_key=f"booking-{booking.pk}-class-cancelled"
        ).exists()


def test_cancelling_the_class_undoes_a_late_cancellation_penalty(
    in_gym, gym, make_member, class_pack, session_factory, staff_user
):
    # given a member who cancelled late (credit forfeited, fee on their account)
    _late_fee_policy(gym)
    session = session_factory(capacity=5, starts_at=timezone.now() + timedelta(minutes=90))
    member = make_member(plan=class_pack)
    booking = services.booking_create(session=session, member=member, actor=None, now=_earlier())
    services.booking_cancel(booking=booking, actor=None)
    booking.refresh_from_db()
    assert booking.status == "late_cancelled" and booking.fee_charged == Decimal("6.00")
    assert Membership.objects.get(member=member).credits_remaining == 9
    # when the gym then cancels the class
    from billing.models import PendingCharge
    from classes.services import session_cancel

    session_cancel(session=session, actor=staff_user, reason="Instructor ill")
    # then the class they gave up never ran: credit back, fee withdrawn
    booking.refresh_from_db()
    assert booking.status == "late_cancelled" and booking.fee_charged == 0
    assert not booking.credit_held
    assert Membership.objects.get(member=member).credits_remaining == 10
    charge = PendingCharge.objects.get(source_id=str(booking.pk))
    assert charge.status == PendingCharge.Status.CANCELLED


def test_reminders_are_sent_once_n_hours_before(in_gym, gym, make_member, session_factory):
    BookingPolicyFactory(organisation=gym, reminder_hours=24)
    soon = session_factory(starts_at=timezone.now() + timedelta(hours=5))
    later = session_factory(starts_at=timezone.now() + timedelta(days=3))
    a = services.booking_create(session=soon, member=make_member(), actor=None)
    services.booking_create(session=later, member=make_member(), actor=None)
    # when the job runs twice
    assert services.bookings_send_reminders() == 1
    assert services.bookings_send_reminders() == 0
    # then only the class within 24 hours got a reminder, once
    reminders = OutboxMessage.objects.filter(dedupe_key__contains="-reminder")
    assert [m.dedupe_key for m in reminders] == [
        f"booking-{a.pk}-reminder-{int(soon.starts_at.timestamp())}"
    ]


def _late_fee_policy(gym):
    """Free cancellation until 2 hours before, then a fee; promotion until 1 hour before."""
    return BookingPolicyFactory(
        organisation=gym,
        cancellation_cutoff_minutes=120,
        promotion_cutoff_minutes=60,
        late_cancel_penalty="fee",
        late_cancel_fee="6.00",
    )


def test_moved_in_after_the_free_cancellation_time_can_still_cancel_free(
    in_gym, gym, make_member, session_factory
):
    # given a class 90 minutes away (past the free-cancellation time, before the
    # promotion cut-off), full, with someone who joined the waitlist hours ago
    _late_fee_policy(gym)
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=90))
    first, second = _fill(session, make_member, 2, now=_earlier())
    # when a place frees up and they are moved in, then they cancel
    services.booking_cancel(booking=first, actor=None, waive_penalty=True)
    second.refresh_from_db()
    assert second.status == "booked"
    mail = OutboxMessage.objects.get(dedupe_key=f"booking-{second.pk}-promoted")
    assert "free of charge until the class starts" in rendered_email(mail.payload)["body"]
    services.booking_cancel(booking=second, actor=None)
    # then it is an ordinary cancellation: no late-cancel status, no fee
    from billing.models import PendingCharge

    second.refresh_from_db()
    assert second.status == "cancelled" and second.fee_charged == 0
    assert not PendingCharge.objects.filter(source_id=str(second.pk)).exists()


def test_moved_in_before_the_free_cancellation_time_keeps_the_usual_cut_off(
    in_gym, gym, make_member, session_factory
):
    # given a class 5 hours away, full, with one waiting
    _late_fee_policy(gym)
    starts_at = timezone.now() + timedelta(hours=5)
    session = session_factory(capacity=1, starts_at=starts_at)
    first, second = _fill(session, make_member, 2)
    # when they are moved in now (before the free-cancellation time)
    services.booking_cancel(booking=first, actor=None)
    mail = OutboxMessage.objects.get(dedupe_key=f"booking-{second.pk}-promoted")
    assert "You can cancel free of charge until" in rendered_email(mail.payload)["body"]
    # and cancel an hour before the class
    services.booking_cancel(booking=second, actor=None, now=starts_at - timedelta(hours=1))
    # then the usual late-cancellation rule applies
    second.refresh_from_db()
    assert second.status == "late_cancelled" and second.fee_charged == Decimal("6.00")


def test_the_waitlist_closes_at_the_promotion_cut_off(in_gym, gym, make_member, session_factory):
    # given a full class 45 minutes away; nobody is moved in later than 60 minutes before
    _late_fee_policy(gym)
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=45))
    _fill(session, make_member, 1, now=_earlier())
    # when someone tries to join its waitlist now
    with pytest.raises(Conflict) as refused:
        services.booking_create(session=session, member=make_member(), actor=None)
    # then they are told, and nothing is written
    assert refused.value.code == "waitlist_closed"
    session.refresh_from_db()
    assert (session.booked_count, session.waitlist_count) == (1, 0)
    assert Booking.objects.filter(session=session).count() == 1
