"""A back-office save the rules refuse shows why beside the field, keeps what was
typed, saves nothing, and says nothing of success."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from bookings import services
from bookings.models import Appointment, Booking
from bookings.tests.factories import AppointmentServiceFactory
from classes.models import ClassSession

pytestmark = pytest.mark.django_db

SAVED = "successfully"


def test_capacity_below_the_booked_count_is_refused_on_the_session_page(
    gym, client_for, manager, session_factory, make_member
):
    session = session_factory(capacity=3)
    with tenant_scope(gym):
        for _ in range(2):
            services.booking_create(session=session, member=make_member(), actor=None)
    response = client_for(manager).post(
        f"/admin/classes/classsession/{session.pk}/change/",
        {
            "room": "",
            "trainer": "",
            "capacity": 1,
            "bookings-TOTAL_FORMS": 0,
            "bookings-INITIAL_FORMS": 0,
        },
        follow=True,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 people are booked" in page and SAVED not in page
    assert 'name="capacity" value="1"' in page
    with tenant_scope(gym):
        assert ClassSession.objects.get(pk=session.pk).capacity == 3


def test_a_staff_booking_for_someone_already_booked_keeps_the_reason_typed(
    gym, branch, client_for, manager, session_factory
):
    member = MemberFactory(home_branch=branch)
    session = session_factory()
    form = {"session": session.pk, "member": member.pk, "override_reason": "Trial class"}
    client = client_for(manager)
    client.post("/admin/bookings/booking/add/", form, follow=True)  # its message shown
    response = client.post("/admin/bookings/booking/add/", form, follow=True)
    page = response.content.decode()
    assert "already have a place" in page and SAVED not in page
    assert 'value="Trial class"' in page
    with tenant_scope(gym):
        assert Booking.objects.filter(member=member).count() == 1


def test_booking_a_taken_slot_from_the_admin_is_refused(gym, branch, client_for, manager):
    trainer = TrainerProfileFactory(organisation=gym)
    service = AppointmentServiceFactory(organisation=gym)
    starts_at = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    with tenant_scope(gym):
        services.appointment_book(
            service=service,
            trainer=trainer,
            member=MemberFactory(home_branch=branch),
            branch=branch,
            starts_at=starts_at,
            actor=None,
            check_availability=False,
        )
    other = MemberFactory(home_branch=branch)
    local = starts_at.astimezone(ZoneInfo(branch.timezone))  # the admin works in it
    response = client_for(manager).post(
        "/admin/bookings/appointment/add/",
        {
            "service": service.pk,
            "trainer": trainer.pk,
            "member": other.pk,
            "branch": branch.pk,
            "starts_at_0": local.date().isoformat(),
            "starts_at_1": local.strftime("%H:%M:%S"),
            "notes": "Knee rehab",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "That slot has just been taken." in page
    assert SAVED not in page and "Knee rehab" in page
    with tenant_scope(gym):
        assert not Appointment.objects.filter(member=other).exists()


def test_an_appointments_time_and_people_are_not_edited_in_place(gym, branch, client_for, manager):
    trainer = TrainerProfileFactory(organisation=gym)
    with tenant_scope(gym):
        appointment = services.appointment_book(
            service=AppointmentServiceFactory(organisation=gym),
            trainer=trainer,
            member=MemberFactory(home_branch=branch),
            branch=branch,
            starts_at=timezone.now() + timedelta(days=2),
            actor=None,
            check_availability=False,
        )
    page = client_for(manager).get(f"/admin/bookings/appointment/{appointment.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="starts_at_0"' not in html and 'name="trainer"' not in html
    assert 'name="notes"' in html
