"""A member books a class and cancels it, in Chromium, at phone and desktop sizes."""

import pytest

from accounts.tenancy import tenant_scope
from bookings.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_books_a_class_from_the_schedule_and_cancels_it(
    journey, gym, make_member, session_factory
):
    # given a member and a class with places
    member = make_member()
    session = session_factory(capacity=5)
    journey.sign_in(member.user)

    # when they open the class page and book it
    journey.go(f"/classes/{session.pk}/")
    journey.shot("class page")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Book", exact=True).first.click()
    journey.shot("booked")
    journey.check()

    # then the place is theirs
    with tenant_scope(gym):
        booking = Booking.objects.get(member=member, session=session)
    assert booking.status == Booking.Status.BOOKED

    # and they can cancel it from my bookings, by keyboard
    journey.go("/bookings/")
    cancel = journey.page.get_by_role("button", name="Cancel booking").first
    cancel.focus()
    # (wait for the page the form posts to: the check below reads the database)
    with journey.page.expect_navigation():
        journey.page.keyboard.press("Enter")
    journey.shot("cancelled")
    with tenant_scope(gym):
        booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
