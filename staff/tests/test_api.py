"""Staff API: one's own schedule and pay lines; invitations for managers."""

from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tenancy import tenant_scope
from classes.tests.factories import ClassSessionFactory
from staff import services
from staff.models import Invitation
from staff.tests.factories import PayLineFactory, PayPeriodFactory, ShiftFactory


def signed_in(api_client, user):
    response = api_client.post(
        "/api/v1/auth/token",
        {"email": user.email, "password": "correct-horse-battery-staple"},
        format="json",
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    return api_client


@pytest.mark.django_db
def test_my_schedule_lists_my_classes_and_shifts(api_client, gym, branch, trainer, front_desk):
    mine = ClassSessionFactory(organisation=gym, branch=branch, trainer=trainer)
    ClassSessionFactory(organisation=gym, branch=branch)  # someone else's
    ShiftFactory(organisation=gym, branch=branch, user=trainer.user)

    body = signed_in(api_client, trainer.user).get("/api/v1/staff/me/schedule").json()

    assert [c["id"] for c in body["classes"]] == [mine.pk]
    assert len(body["shifts"]) == 1 and body["shifts"][0]["clock_out_missed"] is False


@pytest.mark.django_db
def test_my_pay_lines_are_mine_only(api_client, gym, branch, trainer, front_desk):
    period = PayPeriodFactory(organisation=gym, branch=branch)
    line = PayLineFactory(organisation=gym, period=period, user=trainer.user, amount=Decimal("9"))
    PayLineFactory(organisation=gym, period=period, user=front_desk)

    body = signed_in(api_client, trainer.user).get("/api/v1/staff/me/pay-lines").json()

    assert [row["id"] for row in body["results"]] == [line.pk]
    assert body["results"][0]["amount"] == "9.00"


@pytest.mark.django_db
def test_a_manager_invites_through_the_api_and_errors_sit_beside_fields(
    api_client, gym, branch, other_branch, manager
):
    api = signed_in(api_client, manager)

    created = api.post(
        "/api/v1/staff/invitations",
        {"email": "new@example.com", "role": Role.FRONT_DESK, "branches": [branch.pk]},
        format="json",
    )
    refused = api.post(
        "/api/v1/staff/invitations",
        {"email": "x@example.com", "role": Role.FRONT_DESK, "branches": [other_branch.pk]},
        format="json",
    )
    bad = api.post("/api/v1/staff/invitations", {"email": "nope", "role": "king"}, format="json")

    assert created.status_code == 201, created.content
    # (another branch is not even a valid choice in the manager's scope)
    assert refused.status_code == 400 and "branches" in refused.json()["fields"]
    assert bad.status_code == 400 and {"email", "role"} <= set(bad.json()["fields"])
    listed = api.get("/api/v1/staff/invitations").json()["results"]
    assert [row["email"] for row in listed] == ["new@example.com"]
    revoked = api.post(f"/api/v1/staff/invitations/{created.json()['id']}/revoke")
    assert revoked.json()["status"] == Invitation.Status.REVOKED


@pytest.mark.django_db
def test_members_and_outsiders_cannot_reach_invitations(api_client, gym, branch, member, owner):
    with tenant_scope(gym):
        services.invitation_create(
            actor=owner, email="a@example.com", role=Role.TRAINER, branches=[branch]
        )
    response = signed_in(api_client, member.user).get("/api/v1/staff/invitations")
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_schema_describes_the_staff_endpoints(api_client, gym):
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/staff/me/schedule",
        "/api/v1/staff/me/pay-lines",
        "/api/v1/staff/invitations",
        "/api/v1/staff/invitations/{id}/revoke",
    ):
        assert path in schema["paths"], path
