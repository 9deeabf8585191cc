"""The back office: invitations, pay periods and the CSV, through the admin pages."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import tenant_scope
from conftest import LOGIN_BACKEND
from staff.models import Invitation, PayPeriod

HOST = "gym-a.test"


@pytest.mark.django_db
def test_an_owner_invites_from_the_admin(client, gym, branch, owner):
    client.force_login(owner, backend=LOGIN_BACKEND)
    response = client.post(
        reverse("admin:staff_invitation_add"),
        {"email": "hire@example.com", "role": Role.TRAINER, "branches": [branch.pk]},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(gym):
        invitation = Invitation.objects.get(email="hire@example.com")
        assert list(invitation.branches.all()) == [branch]


@pytest.mark.django_db
def test_a_manager_cannot_invite_a_manager_and_is_told_beside_the_field(
    client, gym, branch, manager
):
    client.force_login(manager, backend=LOGIN_BACKEND)
    response = client.post(
        reverse("admin:staff_invitation_add"),
        {"email": "peer@example.com", "role": Role.BRANCH_MANAGER, "branches": [branch.pk]},
        HTTP_HOST=HOST,
    )
    assert response.status_code == 200
    assert "You can invite only roles below your own." in response.content.decode()
    with tenant_scope(gym):
        assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_pay_period_is_added_computed_and_exported(client, gym, branch, owner):
    client.force_login(owner, backend=LOGIN_BACKEND)
    client.post(
        reverse("admin:staff_payperiod_add"),
        {"branch": branch.pk, "starts_on": "2025-09-01", "ends_on": "2025-09-30"},
        HTTP_HOST=HOST,
    )
    with tenant_scope(gym):
        period = PayPeriod.objects.get(starts_on=date(2025, 9, 1))
    client.post(
        reverse("admin:staff_payperiod_changelist"),
        {"action": "compute", "_selected_action": [period.pk]},
        HTTP_HOST=HOST,
    )
    csv = client.get(reverse("admin:staff_payperiod_csv", args=[period.pk]), HTTP_HOST=HOST)
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().startswith("employee_email,")
    with tenant_scope(gym):
        assert PayPeriod.objects.get(pk=period.pk).computed_at is not None
