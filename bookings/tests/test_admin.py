"""Back office: sessions, staff override bookings, promotion, session cancels, series edits."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from accounts.tenancy import tenant_scope
from bookings import services
from bookings.models import Booking
from bookings.tests.factories import BookingPolicyFactory
from classes.models import ClassSession
from classes.tests.factories import ClassScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/classes/classsession/",
        "/admin/classes/classsession/?when=full",
        "/admin/classes/classschedule/",
        "/admin/classes/classtype/",
        "/admin/classes/room/",
        "/admin/bookings/booking/",
        "/admin/bookings/booking/?list=waitlist",
        "/admin/bookings/bookingpolicy/",
        "/admin/bookings/appointment/",
        "/admin/bookings/traineravailability/",
        "/admin/bookings/booking/add/",
        "/admin/classes/classsession/add/",
    ],
)
def test_admin_pages_load(client_for, manager, url, session_factory):
    session_factory()
    assert client_for(manager).get(url).status_code == 200


def test_session_list_query_count_is_bounded(
    gym, client_for, manager, session_factory, make_member, django_assert_max_num_queries
):
    with tenant_scope(gym):
        for _ in range(30):
            services.booking_create(
                session=session_factory(capacity=3), member=make_member(), actor=None
            )
    client = client_for(manager)
    client.get("/admin/classes/classsession/")
    with django_assert_max_num_queries(25):
        assert client.get("/admin/classes/classsession/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/admin/bookings/booking/").status_code == 200


def test_staff_override_booking_from_the_admin(gym, branch, client_for, manager, session_factory):
    from accounts.tests.factories import MemberFactory

    member = MemberFactory(home_branch=branch)  # no membership at all
    session = session_factory()
    response = client_for(manager).post(
        "/admin/bookings/booking/add/",
        {"session": session.pk, "member": member.pk, "override_reason": "Trial class"},
        follow=True,
    )
    assert response.status_code == 200
    with tenant_scope(gym):
        booking = Booking.objects.get(member=member)
        assert booking.is_override and booking.override_reason == "Trial class"
        assert booking.booked_by == manager
        assert AuditLog.objects.filter(action="booking.override").exists()


def test_cancel_session_action(gym, client_for, manager, session_factory, make_member):
    session = session_factory()
    with tenant_scope(gym):
        booking = services.booking_create(session=session, member=make_member(), actor=None)
    client_for(manager).post(
        "/admin/classes/classsession/",
        {"action": "cancel_sessions", "_selected_action": [session.pk]},
    )
    with tenant_scope(gym):
        assert ClassSession.objects.get(pk=session.pk).status == "cancelled"
        assert Booking.objects.get(pk=booking.pk).status == "cancelled"


def test_promote_action(gym, client_for, manager, session_factory, make_member):
    BookingPolicyFactory(organisation=gym, cancellation_cutoff_minutes=0)
    session = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=20))
    joined = timezone.now() - timedelta(hours=3)  # before the promotion cut-off
    with tenant_scope(gym):
        first = services.booking_create(session=session, member=make_member(), actor=None)
        waiting = services.booking_create(
            session=session, member=make_member(), actor=None, now=joined
        )
        services.booking_cancel(booking=first, actor=None)  # inside the promotion cut-off
    client_for(manager).post(
        "/admin/bookings/booking/", {"action": "promote", "_selected_action": [waiting.pk]}
    )
    with tenant_scope(gym):
        assert Booking.objects.get(pk=waiting.pk).status == "booked"


def test_edit_session_capacity_promotes(
    gym, branch, client_for, manager, session_factory, make_member
):
    session = session_factory(capacity=1)
    with tenant_scope(gym):
        services.booking_create(session=session, member=make_member(), actor=None)
        waiting = services.booking_create(session=session, member=make_member(), actor=None)
    client_for(manager).post(
        f"/admin/classes/classsession/{session.pk}/change/",
        {
            "room": "",
            "trainer": "",
            "capacity": 2,
            "bookings-TOTAL_FORMS": 0,
            "bookings-INITIAL_FORMS": 0,
        },
    )
    with tenant_scope(gym):
        assert ClassSession.objects.get(pk=session.pk).capacity == 2
        assert Booking.objects.get(pk=waiting.pk).status == "booked"


def test_edit_series_page(gym, branch, client_for, manager, trainer):
    schedule = ClassScheduleFactory(organisation=gym, branch=branch, weekdays=[0, 2])
    with tenant_scope(gym):
        from classes.services import schedule_materialise

        schedule_materialise(schedule=schedule, weeks=3)
    client = client_for(manager)
    url = f"/admin/classes/classschedule/{schedule.pk}/edit-series/"
    assert client.get(url).status_code == 200
    from_date = timezone.localdate() + timedelta(days=7)
    response = client.post(url, {"from_date": from_date.isoformat(), "start_time": "09:30"})
    assert response.status_code == 302
    with tenant_scope(gym):
        later = ClassSession.objects.filter(occurrence_date__gte=from_date, status="scheduled")
        assert later.exists()
        from zoneinfo import ZoneInfo

        assert {s.starts_at.astimezone(ZoneInfo("Europe/London")).time() for s in later} == {
            time(9, 30)
        }


def test_admin_refuses_a_room_too_small_or_elsewhere(gym, branch, other_branch, client_for, owner):
    from classes.tests.factories import ClassTypeFactory, RoomFactory

    small = RoomFactory(organisation=gym, branch=branch, capacity=5)
    class_type = ClassTypeFactory(organisation=gym)
    client = client_for(owner)
    response = client.post(
        "/admin/classes/classschedule/add/",
        {
            "branch": branch.pk,
            "class_type": class_type.pk,
            "room": small.pk,
            "weekdays": "0,2",
            "start_time": "07:00",
            "duration_minutes": 45,
            "capacity": 20,
            "starts_on": timezone.localdate().isoformat(),
            "is_active": "on",
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )
    assert (
        response.status_code == 200
        and "The room holds at most 5 people" in response.content.decode()
    )
    elsewhere = RoomFactory(organisation=gym, branch=other_branch)
    response = client.post(
        "/admin/classes/classsession/add/",
        {
            "branch": branch.pk,
            "class_type": class_type.pk,
            "room": elsewhere.pk,
            "starts_at_0": "2030-01-01",
            "starts_at_1": "07:00",
            "ends_at_0": "2030-01-01",
            "ends_at_1": "08:00",
            "occurrence_date": "2030-01-01",
            "capacity": 10,
            "bookings-TOTAL_FORMS": 0,
            "bookings-INITIAL_FORMS": 0,
        },
    )
    assert (
        response.status_code == 200
        and "That room is in another branch" in response.content.decode()
    )
    with tenant_scope(gym):
        assert not ClassSession.objects.exists()


def test_admin_schedule_add_materialises_sessions(gym, branch, client_for, owner):
    from classes.models import ClassSchedule
    from classes.tests.factories import ClassTypeFactory

    class_type = ClassTypeFactory(organisation=gym)
    client_for(owner).post(
        "/admin/classes/classschedule/add/",
        {
            "branch": branch.pk,
            "class_type": class_type.pk,
            "weekdays": "0,2,4",
            "start_time": "07:00",
            "duration_minutes": 45,
            "capacity": 20,
            "starts_on": timezone.localdate().isoformat(),
            "is_active": "on",
            "exceptions-TOTAL_FORMS": 0,
            "exceptions-INITIAL_FORMS": 0,
        },
    )
    with tenant_scope(gym):
        schedule = ClassSchedule.objects.get()
        assert ClassSession.objects.filter(schedule=schedule).count() >= 3 * 5


def test_move_one_session_from_the_admin(gym, client_for, manager, session_factory, make_member):
    from datetime import UTC, datetime

    from gymsite.models import OutboxMessage

    # given a Friday 07:00 class (London, before the clocks go forward) with a booking
    session = session_factory(starts_at=datetime(2027, 3, 26, 7, 0, tzinfo=UTC))
    with tenant_scope(gym):
        booking = services.booking_create(
            session=session,
            member=make_member(),
            actor=None,
            now=datetime(2027, 3, 20, 9, 0, tzinfo=UTC),
        )
    client = client_for(manager)
    change_page = client.get(f"/admin/classes/classsession/{session.pk}/change/")
    url = f"/admin/classes/classsession/{session.pk}/move/"
    assert url in change_page.content.decode()
    # the form starts from the current local time
    page = client.get(url).content.decode()
    assert 'value="2027-03-26"' in page and 'value="07:00"' in page
    # a time that does not exist is refused beside the field, with what was typed kept
    response = client.post(
        url, {"date": "2027-03-28", "start_time": "01:30", "duration_minutes": 45}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "the clocks go forward that night" in body
    assert 'value="45"' in body and 'value="01:30"' in body
    # when moved to Monday 07:00 local (after the change) for 45 minutes
    response = client.post(
        url, {"date": "2027-03-29", "start_time": "07:00", "duration_minutes": 45}
    )
    assert response.status_code == 302
    with tenant_scope(gym):
        moved = ClassSession.objects.get(pk=session.pk)
        assert moved.starts_at == datetime(2027, 3, 29, 6, 0, tzinfo=UTC)
        assert moved.ends_at == datetime(2027, 3, 29, 6, 45, tzinfo=UTC)
        assert Booking.objects.get(pk=booking.pk).status == "booked"
        assert AuditLog.objects.get(action="session.move").actor == manager
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"booking-{booking.pk}-moved-")


def test_a_booking_reads_as_words_in_lists(in_gym, gym, make_member, session_factory):
    from bookings import services as booking_services

    member = make_member(first_name="Yusuf", last_name="Jackson")
    session = session_factory()
    booking = booking_services.booking_create(session=session, member=member, actor=None)
    text = str(booking)
    assert text.startswith("Yusuf Jackson, ") and text.endswith(": Booked")
    assert "@" not in text and "(booked)" not in text
