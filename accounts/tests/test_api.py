"""The mobile app's account API: tokens, /me, branches."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, BranchFactory

pytestmark = pytest.mark.django_db


def _login(api_client, user):
    response = api_client.post(
        reverse("api-token"), {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_token_pair_authenticates_me(api_client, member):
    tokens = _login(api_client, member.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    body = api_client.get(reverse("api-me")).json()

    assert body["email"] == member.user.email
    assert body["roles"] == ["member"]
    assert body["member"]["home_branch"] == member.home_branch_id


def test_me_requires_authentication(api_client):
    response = api_client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_refresh_rotates_and_the_old_refresh_token_is_revoked(api_client, member):
    tokens = _login(api_client, member.user)

    rotated = api_client.post(reverse("api-token-refresh"), {"refresh": tokens["refresh"]})
    replay = api_client.post(reverse("api-token-refresh"), {"refresh": tokens["refresh"]})

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert replay.status_code == 401


def test_logout_revokes_the_refresh_token(api_client, member):
    tokens = _login(api_client, member.user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert api_client.post(reverse("api-logout"), {"refresh": tokens["refresh"]}).status_code == 204
    after = api_client.post(reverse("api-token-refresh"), {"refresh": tokens["refresh"]})
    assert after.status_code == 401


def test_logout_with_a_bad_token_is_a_field_error(api_client, member):
    api_client.force_authenticate(member.user)
    response = api_client.post(reverse("api-logout"), {"refresh": "not-a-token"})
    assert response.status_code == 400
    assert "refresh" in response.json()["fields"]


def test_patch_me_updates_the_profile(api_client, member):
    api_client.force_authenticate(member.user)
    response = api_client.patch(
        reverse("api-me"),
        {"first_name": "Robin", "member": {"phone": "07700 900123", "goals": "Run 10k"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    member.refresh_from_db()
    member.user.refresh_from_db()
    assert member.user.first_name == "Robin"
    assert (member.phone, member.goals) == ("07700 900123", "Run 10k")


def test_patch_me_with_bad_input_is_a_400_with_field_messages_and_changes_nothing(
    api_client, member, foreign_branch
):
    api_client.force_authenticate(member.user)
    response = api_client.patch(
        reverse("api-me"),
        {"first_name": "X" * 300, "member": {"home_branch": foreign_branch.pk}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "first_name" in body["fields"]
    assert "home_branch" in body["fields"]["member"]
    member.refresh_from_db()
    assert member.home_branch_id != foreign_branch.pk


def test_branches_list_only_this_gym(api_client, branch, other_branch, foreign_branch):
    response = api_client.get(reverse("api-branches"))
    assert response.status_code == 200
    names = {b["name"] for b in response.json()["results"]}
    assert names == {"North", "South"}


def test_nearest_branches_are_ordered_by_distance(api_client, gym):
    BranchFactory(
        organisation=gym, name="Far", latitude=Decimal("53.48"), longitude=Decimal("-2.24")
    )
    BranchFactory(
        organisation=gym, name="Near", latitude=Decimal("51.51"), longitude=Decimal("-0.13")
    )
    response = api_client.get(reverse("api-branches-nearest"), {"lat": "51.50", "lon": "-0.12"})
    assert response.status_code == 200
    ranked = response.json()
    assert [item["branch"]["name"] for item in ranked] == ["Near", "Far"]
    assert ranked[0]["distance_km"] < 2 < ranked[1]["distance_km"]


def test_nearest_branches_reject_bad_coordinates(api_client, gym):
    response = api_client.get(reverse("api-branches-nearest"), {"lat": "200", "lon": "x"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"lat", "lon"}


def test_outsider_token_sees_their_own_gym_on_a_shared_host(outsider, branch):
    from rest_framework.test import APIClient

    shared_host = APIClient(HTTP_HOST="api.spotter.test")
    tokens = _login(shared_host, outsider.user)
    shared_host.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = shared_host.get(reverse("api-me")).json()
    assert me["member"]["id"] == outsider.pk


def test_unknown_gym_gets_a_404_not_everyones_data(branch, foreign_branch):
    from rest_framework.test import APIClient

    response = APIClient(HTTP_HOST="nobody.test").get(reverse("api-branches"))
    assert response.status_code == 404


def test_schema_and_docs_are_served(client):
    assert client.get(reverse("api-schema")).status_code == 200
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
