"""The portal in Chromium: a visitor's public pages, the member's home and entry code
(offline, still rotating), dark mode, and a gym's colours set in the back office."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access import credentials as creds
from access.models import Credential
from accounts.tenancy import tenant_scope
from bookings.tests.factories import BookingFactory, TrainerAvailabilityFactory
from classes.tests.factories import ClassSessionFactory
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _on_loopback(journey):
    """Service workers and Web Crypto need a secure origin; over plain HTTP only the
    loopback address is one (production is HTTPS). A one-gym database serves its only
    gym on any host, so 127.0.0.1 is gym A here."""
    journey.base_url = journey.base_url.replace("gym-a.test", "127.0.0.1")


def test_visitor_browses_home_plans_and_timetable_and_reaches_sign_up(journey, gym, branch):
    # given a gym with a plan on sale and a class this week (on the loopback origin, where
    # the browser shares its location)
    _on_loopback(journey)
    PlanFactory(organisation=gym, name="Unlimited", price="80.00")
    ClassSessionFactory(branch=branch, starts_at=timezone.now() + timedelta(days=1), capacity=12)

    # when a visitor opens the gym's home, its plans and its timetable
    journey.go("/")
    journey.shot("public home")
    assert journey.page.get_by_role("heading", name="Gym A").first.is_visible()
    journey.go("/memberships/plans/")
    journey.shot("plans")
    plans = journey.page.locator("main").inner_text()
    assert "£96.00" in plans and "incl. £16.00 VAT" in plans
    assert "every month" in plans
    journey.go("/classes/timetable/")
    journey.shot("timetable")

    # and finds the nearest branch from where they stand, without typing coordinates
    journey.page.context.grant_permissions(["geolocation"])
    journey.page.context.set_geolocation({"latitude": 51.5, "longitude": -0.12})
    journey.go("/branches/")
    journey.page.get_by_role("button", name="Use my location").click()
    journey.page.wait_for_url("**/branches/?lat=*")
    journey.check()
    journey.shot("nearest branch")
    assert journey.page.get_by_role("heading", name="Nearest to you").is_visible()
    journey.go("/classes/timetable/", check=False)

    # then "Book" leads into sign-up
    journey.page.get_by_role("link", name="Book").first.click()
    journey.page.wait_for_load_state()
    assert "/accounts/signup/" in journey.page.url
    journey.check()
    journey.shot("sign up")


def test_member_home_and_entry_code_keep_working_offline(journey, gym, branch, member):
    # given a signed-in member with a membership and a class booked, on the loopback
    # (secure) origin
    MembershipFactory(member=member, organisation=gym, plan=PlanFactory(organisation=gym))
    session = ClassSessionFactory(
        branch=branch, starts_at=timezone.now() + timedelta(days=1), capacity=12
    )
    BookingFactory(session=session, member=member)
    _on_loopback(journey)
    journey.sign_in(member.user)
    page = journey.page
    page.clock.install()

    # when they open home, then the entry code, and the service worker takes over
    journey.go("/portal/")
    journey.shot("home")
    assert journey.page.get_by_role("heading", name=session.class_type.name).is_visible()
    assert journey.page.get_by_role("button", name="Cancel booking").is_visible()
    journey.go("/access/my-code/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    journey.shot("entry code")

    # and the network goes away
    page.context.set_offline(True)
    page.reload()
    journey.check()
    assert page.locator("#qr-code svg").count() == 1
    page.wait_for_function("document.body.classList.contains('is-offline')")
    first = page.locator("#qr-code").get_attribute("data-payload")
    journey.shot("entry code offline")

    # then the code still rotates, made in the page from the credential's secret
    page.clock.fast_forward("00:31")
    page.wait_for_function(f"document.getElementById('qr-code').dataset.payload !== '{first}'")
    second = page.locator("#qr-code").get_attribute("data-payload")
    page.context.set_offline(False)
    with tenant_scope(gym):
        credential = Credential.objects.get(member=member, kind=Credential.Kind.QR)
    for payload in (first, second):
        parsed = creds.qr_parse(payload)
        assert parsed.credential_id == credential.pk
        assert creds.qr_signature_valid(parsed=parsed, secret=credential.secret)
    assert creds.qr_parse(second).window > creds.qr_parse(first).window


def test_dark_mode_renders_the_portal_dark(journey, gym, member):
    # given a member whose phone is in dark mode
    journey.page.emulate_media(color_scheme="dark")
    journey.sign_in(member.user)

    # when they open their home and the schedule
    for path in ("/portal/", "/classes/", "/"):
        journey.go(path)
        journey.shot(f"dark {path}")
        # then the page is dark (and axe found its contrast sufficient)
        background = journey.page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = (int(part) for part in background[4:-1].split(",")[:3])
        assert max(red, green, blue) < 60, background


def test_owner_sets_the_gyms_colour_in_the_back_office_and_pages_follow(journey, gym, owner):
    # given the owner in the back office, on their organisation's page
    journey.sign_in(owner)
    journey.go(f"/admin/accounts/organisation/{gym.pk}/change/", check=False)
    journey.shot("organisation branding")
    assert journey.page.get_by_text("Branding").first.is_visible()

    # when they pick a new brand colour and save
    journey.page.locator("#id_brand_colour").fill("#7a1fa2")
    journey.page.locator("input[name=_continue], button[name=_continue]").first.click()
    journey.page.wait_for_load_state()

    # then the portal's header wears it
    gym.refresh_from_db()
    assert gym.brand_colour == "#7a1fa2"
    journey.go("/")
    header = journey.page.evaluate(
        "getComputedStyle(document.querySelector('.site-header')).backgroundColor"
    )
    assert header == "rgb(122, 31, 162)"


def test_trainer_pages_fit_a_phone_as_stacked_cards(journey, gym, branch, trainer):
    # given a trainer with a class this week and a weekly availability
    ClassSessionFactory(
        branch=branch, trainer=trainer, starts_at=timezone.now() + timedelta(days=1)
    )
    TrainerAvailabilityFactory(branch=branch, trainer=trainer)
    journey.sign_in(trainer.user)

    # when they open their home, their classes and their availability
    for path, step in (
        ("/trainer/", "trainer home"),
        ("/classes/trainer/", "my classes"),
        ("/bookings/trainer/availability/", "availability"),
    ):
        journey.go(path)  # checked: accessible, and no sideways scrolling on a phone
        journey.shot(step)

    # then on a phone each row is a card whose cells name their column
    if journey.size == "phone":
        label = journey.page.evaluate(
            "getComputedStyle(document.querySelector('tbody td[data-label]'), '::before').content"
        )
        assert label == '"Day"'
