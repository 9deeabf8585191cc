"""One login in several gyms on a shared host: a gym switcher kept in the session,
an API token issued for one gym, and nothing of one gym seen from the other."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.selectors import GYM_SESSION_KEY
from accounts.tests.factories import MemberFactory, RoleAssignmentFactory, UserFactory
from conftest import LOGIN_BACKEND

SHARED = "shared.test"  # a host that names no gym (both gyms exist, so no "only gym")


@pytest.fixture
def both(gym, other_gym, branch, foreign_branch):
    """A member of gym A who is also a trainer-less front desk at gym B."""
    user = UserFactory(email="both@example.com")
    MemberFactory(user=user, home_branch=branch, first_name="Alice", last_name="InA")
    RoleAssignmentFactory(user=user, branch=foreign_branch, role=Role.FRONT_DESK)
    return user


@pytest.mark.django_db
def test_a_person_of_two_gyms_is_asked_which_and_the_choice_sticks(client, both, gym, other_gym):
    client.force_login(both, backend=LOGIN_BACKEND)

    # before choosing, a gym page asks (instead of "no gym here")
    response = client.get(reverse("portal:home"), HTTP_HOST=SHARED)
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:gyms"))
    choices = client.get(reverse("portal:gyms"), HTTP_HOST=SHARED).content.decode()
    assert "Gym A" in choices and "Gym B" in choices

    # after choosing gym A, the portal is gym A's
    client.post(reverse("portal:gyms"), {"organisation": gym.pk}, HTTP_HOST=SHARED)
    home = client.get(reverse("portal:home"), HTTP_HOST=SHARED)
    assert home.status_code == 200 and home.context["member"].last_name == "InA"

    # switching to gym B: their member record in A is not shown there
    client.post(reverse("portal:gyms"), {"organisation": other_gym.pk}, HTTP_HOST=SHARED)
    response = client.get(reverse("portal:home"), HTTP_HOST=SHARED)
    assert response.status_code == 302 and response.url == reverse("admin:index")
    admin_page = client.get(reverse("admin:accounts_member_changelist"), HTTP_HOST=SHARED)
    assert "InA" not in admin_page.content.decode()


@pytest.mark.django_db
def test_the_switcher_never_widens_the_scope(client, outsider, gym, other_gym, member):
    # given the outsider (member of gym B only) choosing gym A in the switcher
    client.force_login(outsider.user, backend=LOGIN_BACKEND)
    response = client.post(reverse("portal:gyms"), {"organisation": gym.pk}, HTTP_HOST=SHARED)

    # then the choice is refused and never stored
    assert GYM_SESSION_KEY not in client.session
    assert "Choose one of your gyms." in response.content.decode()
    # and a session value forged to gym A is ignored: their own gym stays in scope
    session = client.session
    session[GYM_SESSION_KEY] = gym.pk
    session.save()
    home = client.get(reverse("portal:home"), HTTP_HOST=SHARED)
    assert home.status_code == 200
    assert home.context["member"].pk == outsider.pk
    assert "Gym A" not in home.content.decode()
    # and on gym A's own host the session's choice does not matter either
    page = client.get(reverse("portal:home"), HTTP_HOST="gym-a.test")
    assert page.status_code == 302 and page.url == reverse("portal:join")


@pytest.mark.django_db
def test_an_api_token_is_issued_for_one_gym(both, gym, other_gym):
    api = APIClient(HTTP_HOST=SHARED)
    credentials = {"email": both.email, "password": "correct-horse-battery-staple"}

    # two gyms and none named: asked to name one, beside the field
    response = api.post("/api/v1/auth/token", credentials, format="json")
    assert response.status_code == 400
    assert "organisation" in response.json()["fields"]

    # a gym they do not belong to is refused
    stranger = api.post(
        "/api/v1/auth/token", {**credentials, "organisation": "nope"}, format="json"
    )
    assert stranger.status_code == 400

    # named: the token works for that gym only
    token = api.post(
        "/api/v1/auth/token", {**credentials, "organisation": gym.slug}, format="json"
    ).json()["access"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = api.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["roles"] == ["member"]
    assert me.json()["member"]["first_name"] == "Alice"
    # on gym B's own host the gym-A token is refused
    other_host = APIClient(HTTP_HOST="gym-b.test")
    other_host.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert other_host.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_a_one_gym_person_gets_their_only_gym_without_naming_it(outsider, gym, other_gym):
    api = APIClient(HTTP_HOST=SHARED)
    response = api.post(
        "/api/v1/auth/token",
        {"email": outsider.user.email, "password": "correct-horse-battery-staple"},
        format="json",
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = api.get("/api/v1/me").json()
    assert me["member"]["id"] == outsider.pk
    # and gym A's branches are not what the outsider's token sees
    branches = api.get("/api/v1/branches").json()
    names = [b["name"] for b in branches.get("results", branches)]
    assert names == ["Elsewhere"]
