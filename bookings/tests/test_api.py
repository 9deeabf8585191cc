"""The mobile app's class and booking endpoints."""

from datetime import time, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from bookings import services
from bookings.api.serializers import BookingSerializer, SessionBriefSerializer
from bookings.models import Booking
from bookings.tests.factories import AppointmentServiceFactory, TrainerAvailabilityFactory
from classes.services import local_datetime
from classes.tests.factories import ClassSessionFactory
from memberships.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_api(api_client, make_member):
    member = make_member()
    api_client.force_authenticate(member.user)
    api_client.member = member
    return api_client


def test_list_sessions_with_places_and_my_booking(
    gym, branch, member_api, session_factory, make_member
):
    # given three sessions, one of which I am booked on and one full with a waitlist
    mine = session_factory(capacity=5)
    full = session_factory(capacity=1)
    session_factory()
    with tenant_scope(gym):
        services.booking_create(session=mine, member=member_api.member, actor=None)
        services.booking_create(session=full, member=make_member(), actor=None)
        waiting = services.booking_create(session=full, member=member_api.member, actor=None)
    # when
    response = member_api.get("/api/v1/classes")
    # then
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[mine.pk]["places_left"] == 4 and rows[mine.pk]["my_booking"]["status"] == "booked"
    assert rows[full.pk]["places_left"] == 0 and rows[full.pk]["waitlist_count"] == 1
    assert rows[full.pk]["my_booking"] == {
        "id": waiting.pk,
        "status": "waitlisted",
        "waitlist_position": 1,
    }


def test_list_filters(gym, branch, other_branch, member_api, session_factory, trainer):
    soon = session_factory(trainer=trainer)
    session_factory(branch=other_branch)
    later = session_factory(starts_at=timezone.now() + timedelta(days=9))
    ids = lambda r: {row["id"] for row in r.json()["results"]}  # noqa: E731
    assert ids(member_api.get("/api/v1/classes", {"trainer": trainer.pk})) == {soon.pk}
    assert ids(member_api.get("/api/v1/classes", {"branch": branch.pk})) == {soon.pk, later.pk}
    day = (timezone.now() + timedelta(days=8)).date().isoformat()
    assert ids(member_api.get("/api/v1/classes", {"date_from": day})) == {later.pk}
    assert ids(member_api.get("/api/v1/classes", {"class_type": later.class_type_id})) == {later.pk}
    assert member_api.get("/api/v1/classes", {"branch": 999999}).status_code == 400


def test_session_list_query_count_is_bounded(
    gym, branch, member_api, session_factory, make_member, django_assert_max_num_queries
):
    # given 25 sessions I am booked on and others are too
    others = [make_member() for _ in range(3)]
    with tenant_scope(gym):
        for _ in range(25):
            session = session_factory(capacity=2)
            for person in [member_api.member, *others]:
                services.booking_create(session=session, member=person, actor=None)
    # when listing a full page, the query count does not grow with the rows
    with django_assert_max_num_queries(12):
        response = member_api.get("/api/v1/classes", {"page_size": 25})
    assert len(response.json()["results"]) == 25


def test_bookings_list_query_count_is_bounded(
    gym, member_api, session_factory, make_member, django_assert_max_num_queries
):
    with tenant_scope(gym):
        for _ in range(30):
            session = session_factory(capacity=1)
            services.booking_create(session=session, member=make_member(), actor=None)
            services.booking_create(session=session, member=member_api.member, actor=None)
    with django_assert_max_num_queries(12):
        response = member_api.get("/api/v1/bookings", {"page_size": 30})
    rows = response.json()["results"]
    assert len(rows) == 30 and {r["waitlist_position"] for r in rows} == {1}


def test_book_then_duplicate_then_cancel(gym, member_api, session_factory):
    session = session_factory(capacity=1)
    # when I book
    response = member_api.post(f"/api/v1/classes/{session.pk}/book", {}, format="json")
    assert response.status_code == 201, response.json()
    booking_id = response.json()["id"]
    assert response.json()["status"] == "booked"
    # then booking again is a conflict with the one error format
    again = member_api.post(f"/api/v1/classes/{session.pk}/book", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_booked"
    # and I can cancel
    cancel = member_api.post(f"/api/v1/bookings/{booking_id}/cancel", {}, format="json")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    detail = member_api.get(f"/api/v1/bookings/{booking_id}")
    assert detail.json()["status"] == "cancelled"


def test_full_class_answers_with_waitlist_position(gym, member_api, session_factory, make_member):
    session = session_factory(capacity=1)
    with tenant_scope(gym):
        services.booking_create(session=session, member=make_member(), actor=None)
    response = member_api.post(f"/api/v1/classes/{session.pk}/book", {}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "waitlisted" and response.json()["waitlist_position"] == 1


def test_waitlist_position_endpoint(gym, member_api, session_factory, make_member):
    session = session_factory(capacity=1)
    with tenant_scope(gym):
        first = services.booking_create(session=session, member=make_member(), actor=None)
        services.booking_create(session=session, member=make_member(), actor=None)
        mine = services.booking_create(session=session, member=member_api.member, actor=None)
    url = f"/api/v1/bookings/{mine.pk}/waitlist-position"
    assert member_api.get(url).json() == {
        "booking": mine.pk,
        "status": "waitlisted",
        "position": 2,
        "waitlist_length": 2,
    }
    with tenant_scope(gym):
        services.booking_cancel(booking=first, actor=None)  # the first in line moves in
    assert member_api.get(url).json()["position"] == 1


def test_not_eligible_is_403_with_reason(gym, member_api, session_factory):
    with tenant_scope(gym):
        Membership.objects.filter(member=member_api.member).update(status="frozen")
    response = member_api.post(f"/api/v1/classes/{session_factory().pk}/book", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "membership_frozen"


def test_book_for_household_only(gym, branch, member_api, session_factory, make_member):
    child = make_member(payer=member_api.member)
    stranger = make_member()
    session = session_factory()
    ok = member_api.post(f"/api/v1/classes/{session.pk}/book", {"member": child.pk}, format="json")
    assert ok.status_code == 201 and ok.json()["member"] == child.pk
    refused = member_api.post(
        f"/api/v1/classes/{session.pk}/book", {"member": stranger.pk}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["fields"]["member"]
    bad = member_api.post(f"/api/v1/classes/{session.pk}/book", {"member": "x"}, format="json")
    assert bad.status_code == 400


def test_cannot_see_or_cancel_someone_elses_booking(gym, member_api, session_factory, make_member):
    with tenant_scope(gym):
        theirs = services.booking_create(
            session=session_factory(), member=make_member(), actor=None
        )
    assert member_api.get(f"/api/v1/bookings/{theirs.pk}").status_code == 404
    assert member_api.post(f"/api/v1/bookings/{theirs.pk}/cancel").status_code == 404
    with tenant_scope(gym):
        assert Booking.objects.get(pk=theirs.pk).status == "booked"


def test_other_gyms_classes_are_not_listed(gym, other_gym, foreign_branch, member_api):
    foreign = ClassSessionFactory(organisation=other_gym, branch=foreign_branch)
    response = member_api.get("/api/v1/classes")
    assert foreign.pk not in {row["id"] for row in response.json()["results"]}
    assert member_api.get(f"/api/v1/classes/{foreign.pk}").status_code == 404
    assert member_api.post(f"/api/v1/classes/{foreign.pk}/book").status_code == 404


def test_anonymous_is_refused(api_client, session_factory):
    assert api_client.get("/api/v1/classes").status_code == 401


def test_pt_slots_and_booking(gym, branch, member_api):
    trainer = TrainerProfileFactory(organisation=gym, display_name="Coach Kim")
    day = timezone.localdate() + timedelta(days=2)
    TrainerAvailabilityFactory(
        organisation=gym,
        branch=branch,
        trainer=trainer,
        weekday=day.weekday(),
        start_time=time(9, 0),
        end_time=time(12, 0),
    )
    service = AppointmentServiceFactory(organisation=gym)
    query = {
        "service": service.pk,
        "trainer": trainer.pk,
        "branch": branch.pk,
        "date": day.isoformat(),
    }
    # free slots every 30 minutes for a 60-minute service inside 09:00-12:00
    slots = member_api.get("/api/v1/appointments/slots", query).json()
    assert len(slots) == 5
    starts_at = local_datetime(day, time(10, 0), branch.timezone)
    body = {
        "service": service.pk,
        "trainer": trainer.pk,
        "branch": branch.pk,
        "starts_at": starts_at.isoformat(),
    }
    booked = member_api.post("/api/v1/appointments", body, format="json")
    assert booked.status_code == 201, booked.json()
    # the slot and its overlapping neighbours are gone
    assert len(member_api.get("/api/v1/appointments/slots", query).json()) == 2
    # a second member cannot take it
    other = MemberFactory(home_branch=branch)
    member_api.force_authenticate(other.user)
    clash = member_api.post("/api/v1/appointments", body, format="json")
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"
    # outside availability is refused with the field named
    body["starts_at"] = local_datetime(day, time(15, 0), branch.timezone).isoformat()
    outside = member_api.post("/api/v1/appointments", body, format="json")
    assert outside.status_code == 400 and "starts_at" in outside.json()["fields"]


def test_booking_output_is_the_generic_serializer_output(
    gym, member_api, session_factory, make_member
):
    # given bookings with and without a trainer, cancelled (dates set) and a fee
    with tenant_scope(gym):
        trainer_profile = TrainerProfileFactory(organisation=gym)
        plain = services.booking_create(session=session_factory(), member=make_member(), actor=None)
        cancelled = services.booking_create(
            session=session_factory(trainer=trainer_profile), member=make_member(), actor=None
        )
        services.booking_cancel(booking=cancelled, actor=None)
        bookings = list(
            Booking.objects.filter(pk__in=[plain.pk, cancelled.pk]).select_related(
                "session__branch", "session__class_type", "session__trainer", "member"
            )
        )
    for booking in bookings:
        booking.fee_charged = booking.fee_charged + 5  # a non-zero amount, as a Decimal
        context = {"positions": {booking.pk: 3}}
        # then the hand-written representation equals DRF's field-by-field one
        fast = BookingSerializer(booking, context=context).data
        generic = serializers.Serializer.to_representation(
            BookingSerializer(booking, context=context), booking
        )
        generic["session"] = serializers.Serializer.to_representation(
            SessionBriefSerializer(booking.session), booking.session
        )
        assert fast == generic


def test_booking_by_a_signed_in_person_who_is_not_a_member(
    gym, api_client, outsider, session_factory
):
    api_client.force_authenticate(outsider.user)  # a member of gym B only
    session = session_factory()
    response = api_client.post(f"/api/v1/classes/{session.pk}/book", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_member"
    assert not Booking.objects.unscoped().exists()


@pytest.mark.parametrize("body", [{"member": "someone"}, {"member": None}, ["member"]])
def test_bad_booking_body_is_a_400_and_books_nothing(member_api, session_factory, body):
    session = session_factory()
    response = member_api.post(f"/api/v1/classes/{session.pk}/book", body, format="json")
    assert response.status_code == 400
    assert not Booking.objects.unscoped().exists()


def test_booking_post_is_one_read_and_one_write(
    member_api, session_factory, django_assert_num_queries
):
    session = session_factory()
    member_api.get("/api/v1/classes")  # the gym is found by host once, then cached
    # the booking's read (session, rules, member, membership) and its one write; in a
    # test the request runs inside the test's transaction, which adds a savepoint
    with django_assert_num_queries(4) as queries:
        response = member_api.post(f"/api/v1/classes/{session.pk}/book", {}, format="json")
    assert response.status_code == 201
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SELECT", "SAVEPOINT", "WITH", "RELEASE"]
