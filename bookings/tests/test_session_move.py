"""Moving one session to another time: bookings kept, members told, daylight saving,
trainer and room clashes (a trainer's personal training counts)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import AuditLog
from bookings import services as booking_services
from bookings.models import Booking
from bookings.tests.factories import AppointmentFactory
from classes import services
from classes.models import ClassSession
from classes.tests.factories import RoomFactory
from gymsite.errors import Conflict
from gymsite.models import OutboxMessage
from memberships.models import Membership

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The UK clocks go forward on Sunday 28 March 2027 and back on Sunday 31 October 2027.
FRIDAY_BEFORE = datetime(2027, 3, 26, 7, 0, tzinfo=UTC)  # 07:00 GMT
BOOKED_AT = datetime(2027, 3, 20, 10, 0, tzinfo=UTC)
MOVED_AT = datetime(2027, 3, 21, 10, 0, tzinfo=UTC)


def test_a_move_across_the_spring_change_keeps_places_and_tells_everyone(
    in_gym, make_member, class_pack, session_factory, staff_user
):
    # given a one-place Friday 07:00 class with a booked member (class pack) and one waiting
    session = session_factory(starts_at=FRIDAY_BEFORE, capacity=1)
    booked = booking_services.booking_create(
        session=session, member=make_member(plan=class_pack), actor=None, now=BOOKED_AT
    )
    waiting = booking_services.booking_create(
        session=session, member=make_member(), actor=None, now=BOOKED_AT
    )
    Booking.objects.filter(pk=booked.pk).update(reminder_sent_at=BOOKED_AT)
    # when staff move it to Monday 07:00, after the clocks have gone forward
    moved = services.session_move(
        session=session,
        local_date=date(2027, 3, 29),
        local_time=time(7, 0),
        actor=staff_user,
        now=MOVED_AT,
    )
    # then it starts at 07:00 London time, which is now 06:00 UTC, and lasts as long
    moved.refresh_from_db()
    assert moved.starts_at.astimezone(LONDON) == datetime(2027, 3, 29, 7, 0, tzinfo=LONDON)
    assert moved.starts_at == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
    assert moved.ends_at - moved.starts_at == timedelta(hours=1)
    # it is still the same occurrence of its series, marked as edited on its own
    assert moved.occurrence_date == session.occurrence_date
    assert moved.is_customised and moved.moved_at == MOVED_AT
    assert AuditLog.objects.filter(action="session.move", target_id=str(session.pk)).exists()
    # the places are kept
    assert (moved.booked_count, moved.waitlist_count) == (1, 1)
    statuses = dict(Booking.objects.filter(session=session).values_list("pk", "status"))
    assert statuses == {booked.pk: "booked", waiting.pk: "waitlisted"}
    # everyone on it is emailed the old and the new local time
    for booking in (booked, waiting):
        mail = OutboxMessage.objects.get(dedupe_key__startswith=f"booking-{booking.pk}-moved-")
        assert mail.payload["to"] == [booking.member.email]
        assert "Friday 26 March 2027, 07:00" in mail.payload["body"]
        assert "Monday 29 March 2027, 07:00" in mail.payload["body"]
    # the reminder is sent again for the new time
    assert Booking.objects.get(pk=booked.pk).reminder_sent_at is None
    assert booking_services.bookings_send_reminders(now=moved.starts_at - timedelta(hours=3)) == 1
    assert OutboxMessage.objects.filter(
        dedupe_key=f"booking-{booked.pk}-reminder-{int(moved.starts_at.timestamp())}"
    ).exists()
    # and who booked before the move may cancel free of charge even inside the cut-off
    cancelled = booking_services.booking_cancel(
        booking=booked, actor=None, now=moved.starts_at - timedelta(minutes=30)
    )
    assert cancelled.status == "cancelled"
    assert Membership.objects.get(member=booked.member).credits_remaining == 10


def test_booked_after_the_move_the_usual_cut_off_applies(
    in_gym, make_member, session_factory, staff_user
):
    session = session_factory(starts_at=FRIDAY_BEFORE)
    services.session_move(
        session=session,
        local_date=date(2027, 3, 26),
        local_time=time(9, 0),
        actor=staff_user,
        now=MOVED_AT,
    )
    booking = booking_services.booking_create(
        session=session, member=make_member(), actor=None, now=MOVED_AT + timedelta(days=1)
    )
    session.refresh_from_db()
    late = booking_services.booking_cancel(
        booking=booking, actor=None, now=session.starts_at - timedelta(minutes=30)
    )
    assert late.status == "late_cancelled"


def test_a_busy_trainer_or_room_refuses_the_move(
    in_gym, gym, branch, trainer, session_factory, staff_user
):
    # given the class (trainer, studio) and, on Saturday, the trainer's other class at
    # 09:00, the trainer's PT at 12:00 and another class in the studio at 15:00
    studio = RoomFactory(organisation=gym, branch=branch)
    session = session_factory(starts_at=FRIDAY_BEFORE, trainer=trainer, room=studio)
    saturday = date(2027, 3, 27)

    def at(hour):
        return datetime.combine(saturday, time(hour, 0), tzinfo=LONDON)

    session_factory(starts_at=at(9), trainer=trainer)
    AppointmentFactory(organisation=gym, branch=branch, trainer=trainer, starts_at=at(12))
    session_factory(starts_at=at(15), room=studio)
    cancelled = session_factory(starts_at=at(18), room=studio, trainer=trainer)
    ClassSession.objects.filter(pk=cancelled.pk).update(status="cancelled")

    def move_to(hour, minute=0):
        return services.session_move(
            session=session,
            local_date=saturday,
            local_time=time(hour, minute),
            actor=staff_user,
            now=MOVED_AT,
        )

    # then overlapping any of them is refused, and nothing changes
    for hour, minute, code in [(9, 30, "trainer_busy"), (11, 30, "trainer_busy"), (14, 30, None)]:
        with pytest.raises(Conflict) as exc:
            move_to(hour, minute)
        assert exc.value.code == (code or "room_busy")
    assert ClassSession.objects.get(pk=session.pk).starts_at == FRIDAY_BEFORE
    assert not OutboxMessage.objects.filter(dedupe_key__contains="-moved-").exists()
    # back to back is fine, and a cancelled class takes no room or trainer
    assert move_to(10).starts_at == at(10)
    assert move_to(18).starts_at == at(18)
