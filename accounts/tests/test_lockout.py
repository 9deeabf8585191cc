"""Repeated failed sign-ins lock the login, on every login path."""

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(gym):
    return UserFactory(email="runner@example.com")


def test_portal_login_locks_after_repeated_failures(client, person, settings):
    # given: wrong passwords up to the limit; the form shows its error until then
    statuses = [
        client.post(
            reverse("account_login"), {"login": person.email, "password": "wrong"}
        ).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]

    # when: even the right password is tried
    response = client.post(
        reverse("account_login"), {"login": person.email, "password": DEFAULT_PASSWORD}
    )

    # then: the login is locked with a clear message, and nobody is signed in
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_correct_password_before_the_limit_signs_in(client, person):
    client.post(reverse("account_login"), {"login": person.email, "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": person.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(person.pk)


def test_api_token_login_locks_after_repeated_failures(api_client, person, settings):
    url = reverse("api-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = api_client.post(url, {"email": person.email, "password": "wrong"})
        assert response.status_code in (401, 429)

    response = api_client.post(url, {"email": person.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "access" not in response.json()


def test_admin_login_goes_through_the_guarded_login(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
