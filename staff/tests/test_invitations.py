"""Invitations: the three invitee cases (and a member of another gym), expiry,
revocation, single use under a race, and who may invite whom."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from accounts.models import Member, Role, RoleAssignment, TrainerProfile, User
from accounts.tenancy import tenant_scope
from accounts.tests.factories import RoleAssignmentFactory, UserFactory
from conftest import LOGIN_BACKEND
from gymsite.errors import NotAllowed, ServiceError
from gymsite.models import OutboxMessage
from staff import services
from staff.models import Employment, Invitation

HOST = "gym-a.test"


def invite(owner, gym, *, email, role=Role.TRAINER, branches=(), now=None):
    with tenant_scope(gym):
        return services.invitation_create(
            actor=owner, email=email, role=role, branches=list(branches), now=now
        )


def signin(client, user_or_email):
    user = (
        user_or_email if isinstance(user_or_email, User) else User.objects.get(email=user_or_email)
    )
    client.force_login(user, backend=LOGIN_BACKEND)


def page(client, token):
    return client.get(reverse("staff:invitation", args=[token]), HTTP_HOST=HOST)


def post(client, token, **data):
    return client.post(reverse("staff:invitation", args=[token]), data, HTTP_HOST=HOST)


@pytest.mark.django_db
def test_invitation_email_carries_a_link_to_the_gym(gym, branch, owner):
    invitation = invite(owner, gym, email="New.Coach@Example.com", branches=[branch])

    message = OutboxMessage.objects.get(dedupe_key__startswith=f"staff-invitation:{invitation.pk}")
    body = message.payload["body"]
    link = re.search(r"https?://\S+", body).group(0)
    assert link.startswith("http://gym-a.test/staff/invitation/")
    assert link.endswith(f"/{invitation.token}/")
    assert message.payload["to"] == ["new.coach@example.com"]
    # only a digest of the token is stored
    assert invitation.token not in Invitation.objects.unscoped().get(pk=invitation.pk).token_digest


@pytest.mark.django_db
def test_case_a_unknown_email_creates_an_account_and_lands_in_the_trainer_portal(
    client, gym, branch, owner
):
    # given an invitation to someone nobody knows
    invitation = invite(owner, gym, email="fresh@example.com", branches=[branch])
    assert "Create my login" in page(client, invitation.token).content.decode()

    # when they create their login from it
    response = post(
        client,
        invitation.token,
        first_name="Fran",
        last_name="Fresh",
        password1="a-long-new-password-1",
        password2="a-long-new-password-1",
    )

    # then they are signed in, in the trainer portal, with the role and nothing else
    assert response.status_code == 302
    assert response.url == reverse("portal:trainer")
    user = User.objects.get(email="fresh@example.com")
    assert user.check_password("a-long-new-password-1")
    assert client.get(reverse("portal:trainer"), HTTP_HOST=HOST).status_code == 200
    with tenant_scope(gym):
        assert set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == {
            Role.TRAINER
        }
        assert list(TrainerProfile.objects.get(user=user).branches.all()) == [branch]
        assert not Member.objects.filter(user=user).exists()
        assert Employment.objects.get(user=user).ended_at is None
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.NEW_ACCOUNT


@pytest.mark.django_db
def test_new_account_passwords_are_checked_beside_the_field(client, gym, branch, owner):
    invitation = invite(owner, gym, email="fresh@example.com", branches=[branch])

    response = post(
        client, invitation.token, first_name="F", last_name="F", password1="abc", password2="abd"
    )

    assert response.status_code == 200
    assert "The two passwords differ." in response.content.decode()
    assert not User.objects.filter(email="fresh@example.com").exists()


@pytest.mark.django_db
def test_case_b_member_of_this_gym_keeps_their_account_and_gains_the_role(
    client, gym, branch, owner, member
):
    # given a member of this gym invited to the front desk
    invitation = invite(
        owner, gym, email=member.user.email, role=Role.FRONT_DESK, branches=[branch]
    )
    password_before = member.user.password

    # when they open the link signed out, they are asked to sign in (no new account)
    body = page(client, invitation.token).content.decode()
    assert "Sign in to accept" in body
    assert "Create my login" not in body

    # and once signed in they accept
    signin(client, member.user.email)
    response = post(client, invitation.token)

    # then the same login gains the role and keeps the member record; the first page
    # after accepting is the back office
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert User.objects.filter(email=member.user.email).count() == 1
    member.user.refresh_from_db()
    assert member.user.password == password_before
    with tenant_scope(gym):
        assert Member.objects.get(pk=member.pk).user_id == member.user_id
        assert RoleAssignment.objects.filter(
            user=member.user, role=Role.FRONT_DESK, branch=branch
        ).exists()
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.MEMBER_HERE
    assert client.get(reverse("admin:index"), HTTP_HOST=HOST).status_code == 200


@pytest.mark.django_db
def test_case_c_staff_of_another_gym_accepts_with_their_login_and_nothing_crosses(
    client, gym, other_gym, branch, foreign_branch, owner
):
    # given a trainer of gym B, with a profile, a role and a bio there
    coach = UserFactory(email="coach@gym-b.test")
    RoleAssignmentFactory(user=coach, organisation=other_gym, branch=None, role=Role.TRAINER)
    with tenant_scope(other_gym):
        b_profile = TrainerProfile.objects.create(
            user=coach, display_name="Coach of B", bio="Secret B bio", hourly_rate=99
        )
        b_profile.branches.add(foreign_branch)
    invitation = invite(owner, gym, email="coach@gym-b.test", branches=[branch])

    # when they sign in with their existing login and accept
    signin(client, "coach@gym-b.test")
    response = post(client, invitation.token)

    # then they gain an employment here with a fresh profile; nothing of B came along
    assert response.status_code == 302 and response.url == reverse("portal:trainer")
    with tenant_scope(gym):
        profile = TrainerProfile.objects.get(user=coach)
        assert profile.pk != b_profile.pk
        assert profile.bio == "" and profile.hourly_rate == 0
        assert list(profile.branches.all()) == [branch]
        assert Employment.objects.filter(user=coach).exists()
        assert not Member.objects.filter(user=coach).exists()
        assert Invitation.objects.get(pk=invitation.pk).case == Invitation.Case.EXISTING_LOGIN
    with tenant_scope(other_gym):
        assert TrainerProfile.objects.get(user=coach).bio == "Secret B bio"
        assert not Employment.objects.filter(user=coach).exists()
        assert RoleAssignment.objects.filter(user=coach).count() == 1
    # and the gym-A host serves gym A's portal to them, never B's profile
    body = client.get(reverse("portal:trainer"), HTTP_HOST=HOST).content.decode()
    assert "Elsewhere" not in body and "Coach of B" not in body


@pytest.mark.django_db
def test_case_d_member_of_another_gym_learns_nothing_about_it_from_the_page(
    client, gym, other_gym, branch, owner, outsider
):
    # given an invitation to the email of a member of gym B
    invitation = invite(owner, gym, email=outsider.user.email, branches=[branch])
    stranger = invite(owner, gym, email="nobody-known@example.org", branches=[branch])

    # when the link is opened, signed out, and signed in as that member
    signed_out = page(client, invitation.token).content.decode()
    signin(client, outsider.user.email)
    signed_in = page(client, invitation.token).content.decode()

    # then the page says nothing of gym B (its name, its branch, their membership)
    for body in (signed_out, signed_in):
        # (their own address is shown: it is whom the invitation is for)
        body = body.replace(outsider.user.email, "")
        assert "Gym B" not in body
        assert "Elsewhere" not in body
        # (what the page says, not its links: the public nav points at /memberships/)
        text = re.sub(r"<[^>]+>", " ", body).lower()
        assert "member" not in text.replace("remember", "")
    # and the inviter's view of the invitation reveals no case before acceptance
    with tenant_scope(gym):
        assert Invitation.objects.get(pk=invitation.pk).case == ""
        assert Invitation.objects.get(pk=stranger.pk).case == ""
    # accepting gives them a role in A and keeps B's member record where it is
    post(client, invitation.token)
    with tenant_scope(gym):
        assert not Member.objects.filter(user=outsider.user).exists()
        assert TrainerProfile.objects.filter(user=outsider.user).exists()
    with tenant_scope(other_gym):
        assert Member.objects.get(pk=outsider.pk).status == Member.Status.ACTIVE


@pytest.mark.django_db
def test_signed_in_as_someone_else_is_told_to_sign_out(client, gym, branch, owner, member):
    invitation = invite(owner, gym, email="someone@example.com", branches=[branch])
    signin(client, member.user.email)

    response = post(client, invitation.token)

    assert "You are signed in with another email address" in response.content.decode()
    with tenant_scope(gym):
        assert Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.PENDING


@pytest.mark.django_db
def test_an_expired_link_explains_itself(client, gym, branch, owner):
    invitation = invite(
        owner,
        gym,
        email="late@example.com",
        branches=[branch],
        now=timezone.now() - timedelta(days=8),
    )

    response = page(client, invitation.token)

    assert response.status_code == 410
    assert "This invitation expired on" in response.content.decode()
    assert "Ask the gym to send it again" in response.content.decode()
    with tenant_scope(gym), pytest.raises(ServiceError) as exc:
        services.invitation_accept(token=invitation.token, password="x" * 12)
    assert exc.value.code == "invitation_expired"


@pytest.mark.django_db
def test_resend_gives_a_new_link_and_the_old_one_stops_working(client, gym, branch, owner):
    old = invite(
        owner,
        gym,
        email="late@example.com",
        branches=[branch],
        now=timezone.now() - timedelta(days=8),
    )
    old_token = old.token
    with tenant_scope(gym):
        new = services.invitation_resend(actor=owner, invitation=old)

    assert page(client, old_token).status_code == 404
    assert "This invitation link is not valid" in page(client, old_token).content.decode()
    assert page(client, new.token).status_code == 200


@pytest.mark.django_db
def test_a_revoked_invitation_cannot_be_accepted(client, gym, branch, owner):
    invitation = invite(owner, gym, email="gone@example.com", branches=[branch])
    with tenant_scope(gym):
        services.invitation_revoke(actor=owner, invitation=invitation)

    response = post(
        client,
        invitation.token,
        first_name="G",
        last_name="G",
        password1="a-long-new-password-1",
        password2="a-long-new-password-1",
    )

    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not User.objects.filter(email="gone@example.com").exists()


@pytest.mark.django_db
def test_a_used_link_is_single_use(client, gym, branch, owner):
    invitation = invite(owner, gym, email="once@example.com", branches=[branch])
    data = {
        "first_name": "O",
        "last_name": "O",
        "password1": "a-long-new-password-1",
        "password2": "a-long-new-password-1",
    }
    post(client, invitation.token, **data)
    client.logout()

    response = page(client, invitation.token)

    assert response.status_code == 410
    assert "already been used" in response.content.decode()


@pytest.mark.django_db
def test_a_link_of_another_gym_is_unknown_on_this_host(client, gym, other_gym, foreign_branch):
    b_owner = UserFactory()
    RoleAssignmentFactory(user=b_owner, organisation=other_gym, branch=None, role=Role.OWNER)
    invitation = invite(b_owner, other_gym, email="x@example.com", branches=[foreign_branch])

    response = page(client, invitation.token)  # on gym A's host

    assert response.status_code == 404
    assert "Gym B" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_acceptances_at_once_make_one_account_and_one_role(gym, branch, owner):
    invitation = invite(owner, gym, email="racer@example.com", branches=[branch])
    barrier = threading.Barrier(6)
    outcomes = []

    def accept():
        try:
            barrier.wait()
            with tenant_scope(gym):
                services.invitation_accept(
                    token=invitation.token,
                    first_name="R",
                    last_name="R",
                    password="a-long-new-password-1",
                )
            outcomes.append("accepted")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=accept) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted"] + ["invitation_used"] * 5
    assert User.objects.filter(email="racer@example.com").count() == 1
    with tenant_scope(gym):
        assert RoleAssignment.objects.filter(user__email="racer@example.com").count() == 1
        assert Employment.objects.filter(user__email="racer@example.com").count() == 1


@pytest.mark.django_db
def test_branch_manager_invites_only_to_their_branches_and_below_their_role(
    gym, branch, other_branch, manager
):
    with tenant_scope(gym):
        ok = services.invitation_create(
            actor=manager, email="desk@example.com", role=Role.FRONT_DESK, branches=[branch]
        )
        assert ok.pk
        with pytest.raises(NotAllowed) as other:
            services.invitation_create(
                actor=manager,
                email="d2@example.com",
                role=Role.FRONT_DESK,
                branches=[other_branch],
            )
        with pytest.raises(NotAllowed) as peer:
            services.invitation_create(
                actor=manager,
                email="m2@example.com",
                role=Role.BRANCH_MANAGER,
                branches=[branch],
            )
        with pytest.raises(NotAllowed) as boss:
            services.invitation_create(actor=manager, email="o@example.com", role=Role.OWNER)
    assert other.value.field == "branches"
    assert peer.value.field == "role"
    assert boss.value.code in ("role_too_high", "invalid")


@pytest.mark.django_db
def test_front_desk_and_trainers_cannot_invite(gym, branch, front_desk, trainer):
    with tenant_scope(gym):
        for actor in (front_desk, trainer.user):
            with pytest.raises(NotAllowed):
                services.invitation_create(
                    actor=actor, email="x@example.com", role=Role.TRAINER, branches=[branch]
                )
