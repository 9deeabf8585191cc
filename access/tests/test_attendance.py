"""A door check-in marks the member's booking for a class about to start attended."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.tests.factories import CredentialFactory
from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from classes.tests.factories import ClassSessionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


def _session(branch, starts_in):
    starts = timezone.now() + starts_in
    return ClassSessionFactory(branch=branch, starts_at=starts, ends_at=starts + timedelta(hours=1))


def test_checkin_marks_a_booking_starting_soon_attended(
    device_client, active_member, branch, other_branch, django_capture_on_commit_callbacks
):
    # given: bookings for a class in 20 minutes here, one tomorrow, one at another branch
    soon = BookingFactory(member=active_member, session=_session(branch, timedelta(minutes=20)))
    later = BookingFactory(member=active_member, session=_session(branch, timedelta(days=1)))
    elsewhere = BookingFactory(
        member=active_member, session=_session(other_branch, timedelta(minutes=20))
    )
    card = CredentialFactory(member=active_member)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        body = device_client.post(URL, {"credential": card.number}, format="json").json()
    # then
    assert body["result"] == "granted", body
    statuses = dict(Booking.objects.unscoped().values_list("pk", "status"))
    assert statuses[soon.pk] == Booking.Status.ATTENDED
    assert statuses[later.pk] == Booking.Status.BOOKED
    assert statuses[elsewhere.pk] == Booking.Status.BOOKED


def test_denied_checkin_marks_nothing(device_client, branch, django_capture_on_commit_callbacks):
    from accounts.tests.factories import MemberFactory, UserFactory

    member = MemberFactory(home_branch=branch, user=UserFactory())  # no membership
    booking = BookingFactory(member=member, session=_session(branch, timedelta(minutes=10)))
    card = CredentialFactory(member=member)
    with django_capture_on_commit_callbacks(execute=True):
        device_client.post(URL, {"credential": card.number}, format="json")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
