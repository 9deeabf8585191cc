"""Ending someone's employment: sessions and tokens stop at once, history stays,
future classes go to a substitute or are listed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditLog, Role, RoleAssignment, TrainerProfile
from accounts.tenancy import tenant_scope
from accounts.tests.factories import RoleAssignmentFactory, TrainerProfileFactory, UserFactory
from bookings.tests.factories import AppointmentFactory
from classes.models import ClassSession
from classes.tests.factories import ClassSessionFactory
from conftest import LOGIN_BACKEND
from gymsite.errors import NotAllowed
from staff import services
from staff.models import Employment

HOST = "gym-a.test"


def api_token(user, gym_slug=None):
    client = APIClient(HTTP_HOST=HOST)
    data = {"email": user.email, "password": "correct-horse-battery-staple"}
    if gym_slug:
        data["organisation"] = gym_slug
    response = client.post("/api/v1/auth/token", data, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_ending_employment_revokes_a_live_jwt_and_session_at_once(client, gym, branch, owner):
    # given a front-desk person with a live API token and a signed-in browser session
    desk = UserFactory(email="leaving@gym-a.test")
    RoleAssignmentFactory(user=desk, branch=branch, role=Role.FRONT_DESK)
    tokens = api_token(desk)
    api = APIClient(HTTP_HOST=HOST)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/v1/me").status_code == 200
    client.force_login(desk, backend=LOGIN_BACKEND)
    assert client.get(reverse("admin:index"), HTTP_HOST=HOST).status_code == 200

    # when the owner ends their employment
    with tenant_scope(gym):
        services.employment_end(actor=owner, user=desk, reason="Moved away")

    # then the access token (minutes left) is refused, the refresh token too, and the
    # session is signed out
    assert api.get("/api/v1/me").status_code == 401
    refreshed = APIClient(HTTP_HOST=HOST).post(
        "/api/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    response = client.get(reverse("admin:index"), HTTP_HOST=HOST)
    assert response.status_code == 302 and "login" in response.url
    with tenant_scope(gym):
        assert not RoleAssignment.objects.filter(user=desk).exists()
        employment = Employment.objects.get(user=desk)
        assert employment.ended_at is not None and employment.end_reason == "Moved away"


@pytest.mark.django_db
def test_offboarded_trainer_keeps_history_and_future_classes_go_to_the_substitute(
    gym, branch, owner
):
    # given a trainer with a class taught yesterday, two future classes and a PT slot
    leaving = TrainerProfileFactory(organisation=gym, user=UserFactory())
    RoleAssignmentFactory(user=leaving.user, organisation=gym, branch=None, role=Role.TRAINER)
    substitute = TrainerProfileFactory(organisation=gym, user=UserFactory())
    now = timezone.now()
    taught = ClassSessionFactory(
        organisation=gym, branch=branch, trainer=leaving, starts_at=now - timedelta(days=1)
    )
    future = [
        ClassSessionFactory(
            organisation=gym, branch=branch, trainer=leaving, starts_at=now + timedelta(days=d)
        )
        for d in (1, 3)
    ]
    appointment = AppointmentFactory(
        organisation=gym, branch=branch, trainer=leaving, starts_at=now + timedelta(days=2)
    )

    # when the owner ends their employment with a substitute
    with tenant_scope(gym):
        result = services.employment_end(
            actor=owner, user=leaving.user, reason="Contract ended", substitute=substitute
        )

        # then the past class stays theirs, the future ones are the substitute's, and
        # the appointment is listed for someone to take over
        assert ClassSession.objects.get(pk=taught.pk).trainer_id == leaving.pk
        assert {s.pk for s in result.reassigned} == {s.pk for s in future}
        assert all(ClassSession.objects.get(pk=s.pk).trainer_id == substitute.pk for s in future)
        assert [a.pk for a in result.appointments] == [appointment.pk]
        assert TrainerProfile.objects.get(pk=leaving.pk).is_active is False
        assert AuditLog.objects.filter(action="employment.end").exists()


@pytest.mark.django_db
def test_without_a_substitute_future_classes_are_listed_without_a_trainer(gym, branch, owner):
    leaving = TrainerProfileFactory(organisation=gym, user=UserFactory())
    RoleAssignmentFactory(user=leaving.user, organisation=gym, branch=None, role=Role.TRAINER)
    upcoming = ClassSessionFactory(organisation=gym, branch=branch, trainer=leaving)

    with tenant_scope(gym):
        result = services.employment_end(actor=owner, user=leaving.user, reason="Left")
        assert [s.pk for s in result.needs_substitute] == [upcoming.pk]
        assert ClassSession.objects.get(pk=upcoming.pk).trainer_id is None


@pytest.mark.django_db
def test_a_branch_manager_cannot_offboard_a_peer_or_staff_of_another_branch(
    gym, branch, other_branch, manager
):
    peer = UserFactory()
    RoleAssignmentFactory(user=peer, branch=branch, role=Role.BRANCH_MANAGER)
    elsewhere = UserFactory()
    RoleAssignmentFactory(user=elsewhere, branch=other_branch, role=Role.FRONT_DESK)
    with tenant_scope(gym):
        for user in (peer, elsewhere):
            with pytest.raises(NotAllowed):
                services.employment_end(actor=manager, user=user, reason="No")
        assert RoleAssignment.objects.filter(user__in=[peer, elsewhere]).count() == 2


@pytest.mark.django_db
def test_a_branch_manager_offboards_their_own_front_desk(gym, branch, manager, front_desk):
    with tenant_scope(gym):
        result = services.employment_end(actor=manager, user=front_desk, reason="Season over")
        assert result.employment.ended_by_id == manager.pk
        assert not RoleAssignment.objects.filter(user=front_desk).exists()
