"""Invite → accept → first page, in Chromium at phone and desktop sizes, for each
kind of invitee: a new account, a member of this gym, staff of another gym."""

import re

import pytest

from accounts.models import Role, RoleAssignment
from accounts.tenancy import tenant_scope
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    MemberFactory,
    RoleAssignmentFactory,
    TrainerProfileFactory,
    UserFactory,
)
from staff import services
from staff.models import Invitation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invite(gym, owner, *, email, role, branch):
    with tenant_scope(gym):
        invitation = services.invitation_create(
            actor=owner, email=email, role=role, branches=[branch]
        )
    return f"/staff/invitation/{invitation.token}/", invitation


def test_a_new_trainer_creates_a_login_and_lands_in_the_trainer_portal(journey, gym, branch, owner):
    # given an invitation to an email nobody knows
    link, invitation = invite(
        gym, owner, email="new.coach@example.com", role=Role.TRAINER, branch=branch
    )

    # when they open it and create their login
    journey.go(link)
    journey.shot("invitation")
    page = journey.page
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Newcomer")
    page.locator("input[name=password1]").fill("a-long-new-password-1")
    page.get_by_label("Password again").fill("a-long-new-password-1")
    page.get_by_role("button", name="Create my login and accept").click()
    page.wait_for_load_state()

    # then their first page is the trainer portal, signed in
    assert re.search(r"/trainer/$", page.url), page.url
    journey.check()
    journey.shot("trainer portal")
    assert page.get_by_role("heading", name="Hello, Nia Newcomer").is_visible()
    with tenant_scope(gym):
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.NEW_ACCOUNT


def test_a_member_of_this_gym_accepts_and_lands_in_the_back_office(journey, gym, branch, owner):
    # given a member of this gym invited to the front desk, signed in already
    member = MemberFactory(home_branch=branch, user=UserFactory(email="regular@example.com"))
    link, invitation = invite(
        gym, owner, email="regular@example.com", role=Role.FRONT_DESK, branch=branch
    )
    journey.sign_in(member.user)

    # when they accept
    journey.go(link)
    journey.shot("invitation")
    journey.page.get_by_role("button", name="Accept the invitation").click()
    journey.page.wait_for_load_state()

    # then they are in the back office with the role, still a member
    assert journey.page.url.endswith("/admin/"), journey.page.url
    journey.shot("back office")
    with tenant_scope(gym):
        assert RoleAssignment.objects.filter(
            user=member.user, role=Role.FRONT_DESK, branch=branch
        ).exists()
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.MEMBER_HERE


def test_staff_of_another_gym_signs_in_with_their_login_and_lands_in_the_trainer_portal(
    journey, gym, other_gym, branch, foreign_branch, owner
):
    # given a trainer of gym B, invited to gym A, signed out
    coach = UserFactory(email="coach.b@example.com", first_name="Bea", last_name="Elsewhere")
    RoleAssignmentFactory(user=coach, organisation=other_gym, branch=None, role=Role.TRAINER)
    TrainerProfileFactory(organisation=other_gym, user=coach, display_name="Bea of B")
    link, invitation = invite(
        gym, owner, email="coach.b@example.com", role=Role.TRAINER, branch=branch
    )

    # when they open the link, sign in with their existing login and accept
    journey.go(link)
    journey.shot("invitation signed out")
    page = journey.page
    page.get_by_role("link", name="Sign in to accept").click()
    page.wait_for_load_state()
    page.locator("input[name=login]").fill("coach.b@example.com")
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_load_state()
    assert "/staff/invitation/" in page.url, page.url
    journey.check()
    journey.shot("invitation signed in")
    page.get_by_role("button", name="Accept the invitation").click()
    page.wait_for_load_state()

    # then their first page is gym A's trainer portal, with nothing of gym B
    assert re.search(r"/trainer/$", page.url), page.url
    journey.check()
    journey.shot("trainer portal")
    assert "Bea of B" not in page.content()
    with tenant_scope(gym):
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.EXISTING_LOGIN
