"""A member asks the assistant for yoga and books one of its answers after confirming."""

import pytest

from accounts.tenancy import tenant_scope
from bookings.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_asks_for_yoga_at_camden_and_books_after_confirming(journey, demo, member):
    # given a signed-in member on the chat panel
    journey.sign_in(member.user)
    journey.go("/assistant/")
    page = journey.page

    # when they ask
    page.get_by_label("Your question").fill("any yoga tomorrow evening at Camden?")
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("Here is what I found:").wait_for()
    journey.shot("answer")
    journey.check()
    assert "Vinyasa Flow at Camden" in page.locator("#assistant-log").inner_text()

    # and pick the first answer, then confirm
    page.locator(".assistant-book").first.click()
    confirm = page.get_by_role("button", name="Confirm")
    confirm.wait_for()
    assert page.get_by_text("Book Vinyasa Flow at Camden").count() == 1
    with tenant_scope(demo.gym):
        assert not Booking.objects.filter(member=member).exists()
    confirm.click()
    page.get_by_text("Booked: Vinyasa Flow at Camden").wait_for()
    journey.shot("booked")
    journey.check()

    # then the place is theirs, booked through the portal's service
    with tenant_scope(demo.gym):
        booking = Booking.objects.get(member=member)
    assert booking.session_id == demo.sessions["camden_flow"].pk
    assert booking.status == Booking.Status.BOOKED
