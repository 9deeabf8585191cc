"""Member and trainer pages: schedule, one-click book/cancel, my bookings, calendar, PT."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import TrainerProfileFactory
from bookings import services
from bookings.models import Appointment, Booking, CalendarFeed, TrainerAvailability
from bookings.tests.factories import AppointmentServiceFactory, TrainerAvailabilityFactory
from classes.tests.factories import ClassTypeFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(make_member):
    return make_member()


def test_schedule_shows_places_waitlist_and_my_status(
    gym, client_for, me, session_factory, make_member, trainer
):
    # given a full class I wait for and an open one
    full = session_factory(capacity=1, trainer=trainer)
    open_ = session_factory(capacity=5)
    with tenant_scope(gym):
        services.booking_create(session=full, member=make_member(), actor=None)
        services.booking_create(session=full, member=me, actor=None)
    # when
    page = client_for(me.user).get("/classes/", {"week": full.starts_at.date().isoformat()})
    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "0 places left" in html and "1 waiting" in html
    assert "number 1 on the waitlist" in html and "Leave waitlist" in html
    assert "5 places left" in html and f"/classes/{open_.pk}/book/" in html
    assert "Free cancellation until" in html


def test_schedule_filters(gym, client_for, me, session_factory, trainer):
    yoga = ClassTypeFactory(organisation=gym, name="Sunrise Yoga")
    session_factory(class_type=yoga, trainer=trainer)
    session_factory(class_type=ClassTypeFactory(organisation=gym, name="Power Spin"))
    client = client_for(me.user)
    week = (timezone.now() + timedelta(days=2)).date().isoformat()
    html = client.get("/classes/", {"week": week, "trainer": trainer.pk}).content.decode()
    assert ">Sunrise Yoga</a>" in html and ">Power Spin</a>" not in html
    html = client.get("/classes/", {"week": week, "class_type": yoga.pk}).content.decode()
    assert ">Power Spin</a>" not in html


def test_schedule_opens_at_now_and_at_my_home_branch(
    gym, branch, other_branch, client_for, me, session_factory
):
    # given: a class that ended an hour ago, one soon at home, one soon at South
    now = timezone.now()
    yoga = ClassTypeFactory(organisation=gym, name="Finished Yoga")
    spin = ClassTypeFactory(organisation=gym, name="Home Spin")
    south = ClassTypeFactory(organisation=gym, name="South Pilates")
    session_factory(class_type=yoga, starts_at=now - timedelta(hours=2))
    session_factory(class_type=spin, starts_at=now + timedelta(hours=3))
    session_factory(class_type=south, branch=other_branch, starts_at=now + timedelta(hours=3))
    client = client_for(me.user)

    # when: I open the schedule
    page = client.get("/classes/")
    html = page.content.decode()

    # then: what is still to come at my branch, with the branch picked in the filter
    assert ">Home Spin</a>" in html
    assert ">Finished Yoga</a>" not in html and ">South Pilates</a>" not in html
    assert page.context["form"]["branch"].value() == branch.pk
    assert f"branch={branch.pk}" in page.context["next_week_query"]
    # and "All branches" is one choice away
    html = client.get("/classes/", {"branch": ""}).content.decode()
    assert ">South Pilates</a>" in html


def test_schedule_query_count_is_bounded(
    gym, branch, client_for, me, session_factory, make_member, django_assert_max_num_queries
):
    # given a week with 40 classes, each with bookings, some mine
    room = RoomFactory(organisation=gym, branch=branch)
    start = timezone.now() + timedelta(hours=2)
    others = [make_member() for _ in range(2)]
    with tenant_scope(gym):
        for i in range(40):
            session = session_factory(
                starts_at=start + timedelta(hours=i % 90), room=room, capacity=2
            )
            for person in others if i % 2 else [me, *others]:
                services.booking_create(session=session, member=person, actor=None)
    client = client_for(me.user)
    client.get("/classes/")  # warm up sessions/allauth caches
    with django_assert_max_num_queries(20):
        page = client.get("/classes/", {"week": start.date().isoformat()})
    assert page.status_code == 200


def test_one_click_book_and_cancel(gym, client_for, me, session_factory):
    session = session_factory()
    client = client_for(me.user)
    response = client.post(f"/classes/{session.pk}/book/", {"next": "/classes/"}, follow=True)
    assert "Booked for" in response.content.decode()
    with tenant_scope(gym):
        booking = Booking.objects.get(member=me)
    assert booking.status == "booked"
    response = client.post(f"/bookings/{booking.pk}/cancel/", follow=True)
    assert "Cancelled" in response.content.decode()
    with tenant_scope(gym):
        booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_booking_refusal_is_shown_not_a_500(gym, client_for, me, session_factory):
    session = session_factory(starts_at=timezone.now() + timedelta(days=30))
    response = client_for(me.user).post(f"/classes/{session.pk}/book/", follow=True)
    assert response.status_code == 200
    assert "Booking opens" in response.content.decode()


def test_places_left_and_waitlist_stay_live_on_the_page(
    gym, other_gym, client_for, me, session_factory, make_member, django_assert_max_num_queries
):
    from classes.tests.factories import ClassSessionFactory

    full = session_factory(capacity=1)
    open_ = session_factory(capacity=5)
    elsewhere = ClassSessionFactory(organisation=other_gym)
    client = client_for(me.user)
    page = client.get(f"/classes/?date={full.starts_at.date().isoformat()}").content.decode()
    assert f'data-session-counts="{full.pk}"' in page and "js/live-counts.js" in page
    # when someone books meanwhile, the page's counts read the new numbers
    with tenant_scope(gym):
        services.booking_create(session=full, member=make_member(), actor=None)
        services.booking_create(session=full, member=make_member(), actor=None)
    url = f"/classes/counts/?ids={full.pk},{open_.pk},{elsewhere.pk}"
    client.get(url)
    with django_assert_max_num_queries(8):
        counts = client.get(url).json()["counts"]
    assert counts == {
        str(full.pk): "0 places left · 1 waiting",
        str(open_.pk): "5 places left",
    }
    assert client.get("/classes/counts/?ids=1,x").status_code == 400


def test_book_for_household_from_the_session_page(
    gym, client_for, me, session_factory, make_member
):
    child = make_member(payer=me, first_name="Robin", last_name="Kid")
    session = session_factory()
    client = client_for(me.user)
    page = client.get(f"/classes/{session.pk}/").content.decode()
    assert "Robin Kid" in page and "Free cancellation until" in page
    client.post(f"/classes/{session.pk}/book/", {"member": child.pk})
    with tenant_scope(gym):
        assert Booking.objects.get(session=session).member == child
    # someone outside the household cannot be chosen: refused, and nobody is booked
    stranger = make_member()
    page = client.post(
        f"/classes/{session.pk}/book/", {"member": stranger.pk}, follow=True
    ).content.decode()
    assert "Select a valid choice" in page
    with tenant_scope(gym):
        assert not Booking.objects.filter(member=stranger).exists()
        assert not Booking.objects.filter(member=me).exists()


def test_the_class_page_offers_booking_only_while_it_can_work(
    gym, client_for, me, session_factory, make_member
):
    from bookings.tests.factories import BookingPolicyFactory

    BookingPolicyFactory(organisation=gym, promotion_cutoff_minutes=60)
    client = client_for(me.user)
    past = session_factory(starts_at=timezone.now() - timedelta(days=1))
    page = client.get(f"/classes/{past.pk}/").content.decode()
    assert "Booking for this class has closed." in page and 'value="Book"' not in page
    assert "Book a place" not in page
    # a full class inside the promotion cut-off: its waitlist has closed
    soon = session_factory(capacity=1, starts_at=timezone.now() + timedelta(minutes=45))
    with tenant_scope(gym):
        services.booking_create(session=soon, member=make_member(), actor=None)
    page = client.get(f"/classes/{soon.pk}/").content.decode()
    assert "The class is full and its waitlist has closed." in page
    assert "Join waitlist" not in page
    schedule = client.get(f"/classes/?date={soon.starts_at.date().isoformat()}").content.decode()
    assert "Full: the waitlist has closed" in schedule


def test_cannot_cancel_someone_elses_booking(gym, client_for, me, session_factory, make_member):
    with tenant_scope(gym):
        theirs = services.booking_create(
            session=session_factory(), member=make_member(), actor=None
        )
    assert client_for(me.user).post(f"/bookings/{theirs.pk}/cancel/").status_code == 404


def test_my_bookings_and_calendar_feed(gym, client_for, me, session_factory):
    upcoming = session_factory()
    with tenant_scope(gym):
        services.booking_create(session=upcoming, member=me, actor=None)
    client = client_for(me.user)
    page = client.get("/bookings/").content.decode()
    assert upcoming.class_type.name in page
    with tenant_scope(gym):
        token = CalendarFeed.objects.get(member=me).token
    client.logout()
    feed = client.get(f"/bookings/calendar/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    body = feed.content.decode()
    assert "BEGIN:VEVENT" in body and upcoming.class_type.name in body
    assert client.get("/bookings/calendar/not-a-token.ics").status_code == 404


def test_changing_the_calendar_address_stops_the_old_one(gym, client_for, me, session_factory):
    # given my calendar address, in use
    with tenant_scope(gym):
        services.booking_create(session=session_factory(), member=me, actor=None)
        old = services.calendar_feed_for(member=me).token
    client = client_for(me.user)
    # when I change it
    assert client.post("/bookings/calendar/reset/").status_code == 302
    # then the old address is gone and the new one works
    with tenant_scope(gym):
        new = CalendarFeed.objects.get(member=me).token
    assert new != old
    client.logout()
    assert client.get(f"/bookings/calendar/{old}.ics").status_code == 404
    assert client.get(f"/bookings/calendar/{new}.ics").status_code == 200


def test_a_class_the_gym_cancelled_stays_on_my_bookings_and_in_the_feed(
    gym, client_for, me, session_factory, staff_user
):
    # given my booking for a class, and one I gave up myself
    from classes.services import session_cancel

    cancelled_by_gym, given_up = session_factory(), session_factory()
    with tenant_scope(gym):
        booking = services.booking_create(session=cancelled_by_gym, member=me, actor=None)
        mine = services.booking_create(session=given_up, member=me, actor=None)
        services.booking_cancel(booking=mine, actor=None)
        page = client_for(me.user).get("/bookings/").content.decode()
        assert "Free cancellation until" in page
        # when the gym cancels the first class
        session_cancel(session=cancelled_by_gym, actor=staff_user, reason="Instructor ill")
        token = CalendarFeed.objects.get(member=me).token
    # then it stays on my list, marked, and the feed marks its event cancelled
    page = client_for(me.user).get("/bookings/").content.decode()
    assert "class cancelled" in page and f"/classes/{given_up.pk}/" not in page
    feed = client_for(me.user).get(f"/bookings/calendar/{token}.ics").content.decode()
    assert f"UID:booking-{booking.pk}@" in feed and "STATUS:CANCELLED" in feed
    assert f"UID:booking-{mine.pk}@" not in feed


def test_pt_booking_page(gym, branch, client_for, me):
    trainer = TrainerProfileFactory(organisation=gym)
    day = timezone.localdate() + timedelta(days=2)
    TrainerAvailabilityFactory(
        organisation=gym,
        branch=branch,
        trainer=trainer,
        weekday=day.weekday(),
        start_time=time(9, 0),
        end_time=time(11, 0),
    )
    service = AppointmentServiceFactory(organisation=gym)
    client = client_for(me.user)
    query = {
        "service": service.pk,
        "trainer": trainer.pk,
        "branch": branch.pk,
        "date": day.isoformat(),
    }
    page = client.get("/bookings/appointments/", query).content.decode()
    assert "Book 09:00" in page and "Book 10:00" in page
    from classes.services import local_datetime

    slot = local_datetime(day, time(9, 0), branch.timezone)
    response = client.post(
        "/bookings/appointments/", {**query, "starts_at": slot.isoformat()}, follow=True
    )
    assert "Booked." in response.content.decode()


def test_trainer_roster_and_marking(gym, client_for, trainer, session_factory, make_member):
    session = session_factory(trainer=trainer, starts_at=timezone.now() + timedelta(minutes=5))
    with tenant_scope(gym):
        booking = services.booking_create(
            session=session,
            member=make_member(first_name="Ada", last_name="L", goals="Run 10k"),
            actor=None,
        )
    client = client_for(trainer.user)
    assert "Roster" in client.get("/classes/trainer/").content.decode()
    roster = client.get(f"/classes/trainer/{session.pk}/").content.decode()
    assert "Ada L" in roster and "Run 10k" in roster
    client.post(f"/classes/trainer/{session.pk}/mark/{booking.pk}/", {"action": "attended"})
    with tenant_scope(gym):
        booking.refresh_from_db()
    assert booking.status == "attended"


def test_trainer_appointment_page_and_marking(gym, branch, client_for, trainer, make_member):
    member = make_member(first_name="Ada", last_name="L", goals="Run 10k", notes="Bad knee")
    with tenant_scope(gym):
        appointment = services.appointment_book(
            service=AppointmentServiceFactory(organisation=gym),
            trainer=trainer,
            member=member,
            branch=branch,
            starts_at=timezone.now() + timedelta(minutes=10),
            actor=None,
            notes="First session",
            check_availability=False,
        )
    client = client_for(trainer.user)
    schedule = client.get("/classes/trainer/").content.decode()
    assert f"/bookings/trainer/appointments/{appointment.pk}/" in schedule
    page = client.get(f"/bookings/trainer/appointments/{appointment.pk}/").content.decode()
    assert "Ada L" in page and "Run 10k" in page and "Bad knee" in page
    assert "First session" in page
    response = client.post(
        f"/bookings/trainer/appointments/{appointment.pk}/mark/",
        {"action": "attended"},
        follow=True,
    )
    assert "Saved for Ada L" in response.content.decode()
    with tenant_scope(gym):
        appointment.refresh_from_db()
    assert appointment.status == "attended"
    other = TrainerProfileFactory(organisation=gym)
    assert client_for(other.user).get(
        f"/bookings/trainer/appointments/{appointment.pk}/"
    ).status_code in (403, 404)


def test_trainer_cannot_open_someone_elses_roster(gym, client_for, trainer, session_factory):
    other = session_factory(trainer=TrainerProfileFactory(organisation=gym))
    assert client_for(trainer.user).get(f"/classes/trainer/{other.pk}/").status_code == 404


def test_trainer_sets_availability(gym, branch, client_for, trainer):
    client = client_for(trainer.user)
    bad = client.post(
        "/bookings/trainer/availability/",
        {"branch": branch.pk, "weekday": 1, "start_time": "12:00", "end_time": "09:00"},
    )
    assert "must end after it starts" in bad.content.decode()
    client.post(
        "/bookings/trainer/availability/",
        {"branch": branch.pk, "weekday": 1, "start_time": "09:00", "end_time": "12:00"},
    )
    with tenant_scope(gym):
        assert TrainerAvailability.objects.filter(trainer=trainer, weekday=1).count() == 1


def test_my_bookings_and_roster_query_counts_are_bounded(
    gym, client_for, me, trainer, session_factory, make_member, django_assert_max_num_queries
):
    sessions = [session_factory(capacity=1, trainer=trainer) for _ in range(25)]
    with tenant_scope(gym):
        for session in sessions:
            services.booking_create(session=session, member=make_member(), actor=None)
            services.booking_create(session=session, member=me, actor=None)
    client = client_for(me.user)
    client.get("/bookings/")
    with django_assert_max_num_queries(20):
        assert client.get("/bookings/").status_code == 200
    trainer_client = client_for(trainer.user)
    with django_assert_max_num_queries(20):
        assert trainer_client.get("/classes/trainer/").status_code == 200
    with django_assert_max_num_queries(20):
        assert trainer_client.get(f"/classes/trainer/{sessions[0].pk}/").status_code == 200


def test_pt_booking_page_books_for_a_household_member(gym, branch, client_for, me, make_member):
    from classes.services import local_datetime

    # given a payer with a dependant, and a trainer free 09:00-11:00 in two days
    child = make_member(payer=me, first_name="Robin", last_name="Kid")
    stranger = make_member(first_name="Sam", last_name="Stranger")
    trainer = TrainerProfileFactory(organisation=gym)
    day = timezone.localdate() + timedelta(days=2)
    TrainerAvailabilityFactory(
        organisation=gym,
        branch=branch,
        trainer=trainer,
        weekday=day.weekday(),
        start_time=time(9, 0),
        end_time=time(11, 0),
    )
    service = AppointmentServiceFactory(organisation=gym, late_cancel_fee=Decimal("15.00"))
    client = client_for(me.user)
    query = {
        "member": child.pk,
        "service": service.pk,
        "trainer": trainer.pk,
        "branch": branch.pk,
        "date": day.isoformat(),
    }
    # when the payer searches for Robin
    page = client.get("/bookings/appointments/", query).content.decode()
    # then the household is offered, the slots are Robin's and the rules are in words
    assert '<select name="member"' in page and "Robin Kid" in page and "Sam Stranger" not in page
    assert "Book 09:00 for Robin" in page and "a fee of 15.00" in page
    # and booking a slot books Robin, not the payer
    slot = local_datetime(day, time(9, 0), branch.timezone)
    response = client.post(
        "/bookings/appointments/", {**query, "starts_at": slot.isoformat()}, follow=True
    )
    assert "Booked for Robin." in response.content.decode()
    with tenant_scope(gym):
        booked = Appointment.objects.get()
    assert (booked.member, booked.booked_by, booked.starts_at) == (child, me.user, slot)
    # someone outside the household cannot be chosen: an error beside the field, no booking
    ten = local_datetime(day, time(10, 0), branch.timezone)
    response = client.post(
        "/bookings/appointments/",
        {**query, "member": stranger.pk, "starts_at": ten.isoformat()},
    )
    assert response.status_code == 200
    assert "Pick yourself or someone in your household." in response.content.decode()
    with tenant_scope(gym):
        assert Appointment.objects.count() == 1
    # a slot just taken is shown on the page, not a 500
    response = client.post(
        "/bookings/appointments/", {**query, "member": me.pk, "starts_at": slot.isoformat()}
    )
    assert response.status_code == 200 and "That slot has just been taken." in (
        response.content.decode()
    )


def test_pt_page_without_household_has_no_choice(gym, branch, client_for, me):
    page = client_for(me.user).get("/bookings/appointments/").content.decode()
    assert '<select name="member"' not in page and "My appointments" in page


def test_class_times_are_the_branchs_local_time_in_summer(gym, client_for, me, session_factory):
    from datetime import UTC, datetime

    # a class at 07:00 London time in July (06:00 UTC)
    session = session_factory(starts_at=datetime(2027, 7, 5, 6, 0, tzinfo=UTC))
    client = client_for(me.user)
    detail = client.get(f"/classes/{session.pk}/").content.decode()
    assert "Monday 5 July 2027, 07:00" in detail
    schedule = client.get("/classes/", {"week": "2027-07-05"}).content.decode()
    assert "07:00–08:00" in schedule


def test_the_schedule_shows_each_household_place_and_still_lets_me_book(
    gym, client_for, me, session_factory, make_member
):
    child = make_member(payer=me, first_name="Robin")
    session = session_factory(capacity=5)
    with tenant_scope(gym):
        services.booking_create(session=session, member=child, actor=None)
    page = client_for(me.user).get("/classes/", {"week": session.starts_at.date().isoformat()})
    html = page.content.decode()
    assert "Robin: Booked" in html and f"/classes/{session.pk}/book/" in html
    with tenant_scope(gym):
        services.booking_create(session=session, member=me, actor=None)
    html = (
        client_for(me.user)
        .get("/classes/", {"week": session.starts_at.date().isoformat()})
        .content.decode()
    )
    assert "Robin: Booked" in html and f"{me.first_name}: Booked" in html
    assert f"/classes/{session.pk}/book/" not in html and "Book for my household" in html


def test_future_class_roster_hides_attendance_buttons(
    gym, client_for, trainer, session_factory, make_member
):
    # given: a class tomorrow with one booking
    session = session_factory(trainer=trainer, starts_at=timezone.now() + timedelta(days=1))
    with tenant_scope(gym):
        services.booking_create(
            session=session, member=make_member(first_name="Ada", last_name="L"), actor=None
        )

    # when: the trainer opens its roster
    roster = client_for(trainer.user).get(f"/classes/trainer/{session.pk}/").content.decode()

    # then: no button that could only fail, and a word on when they come
    assert "Ada L" in roster
    assert 'value="attended"' not in roster and 'value="no_show"' not in roster
    assert "half an hour before the class starts" in roster


def test_calendar_feed_offers_apple_google_and_copy(gym, client_for, me):
    from urllib.parse import quote

    page = client_for(me.user).get("/bookings/").content.decode()
    with tenant_scope(gym):
        token = CalendarFeed.objects.get(member=me).token
    webcal = f"webcal://gym-a.test/bookings/calendar/{token}.ics"
    assert f'href="{webcal}"' in page and "Add to Apple calendar" in page
    assert "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe="") in page
    assert "Add to Google calendar" in page
    assert 'data-copy-target="feed-url"' in page and "bookings/copy" in page
