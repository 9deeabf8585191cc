"""The rota at the front desk: clock in, clock out, a missed clock-out flagged."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tenancy import tenant_scope
from accounts.tests.factories import RoleAssignmentFactory, UserFactory
from conftest import LOGIN_BACKEND
from gymsite.errors import Conflict
from staff import services
from staff.models import Shift
from staff.tests.factories import ShiftFactory


@pytest.fixture
def floor(branch):
    user = UserFactory(email="floor@gym-a.test")
    RoleAssignmentFactory(user=user, branch=branch, role=Role.FRONT_DESK)
    return user


@pytest.mark.django_db
def test_the_desk_clocks_a_shift_in_and_out(client, gym, branch, front_desk, floor):
    now = timezone.now()
    shift = ShiftFactory(
        organisation=gym,
        branch=branch,
        user=floor,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=4),
    )
    client.force_login(front_desk, backend=LOGIN_BACKEND)
    url = reverse("staff:desk_shifts")

    page = client.get(url, HTTP_HOST="gym-a.test")
    assert page.status_code == 200 and "Clock in" in page.content.decode()
    client.post(
        url, {"shift": shift.pk, "action": "in", "branch": branch.pk}, HTTP_HOST="gym-a.test"
    )
    client.post(
        url, {"shift": shift.pk, "action": "out", "branch": branch.pk}, HTTP_HOST="gym-a.test"
    )

    with tenant_scope(gym):
        shift = Shift.objects.get(pk=shift.pk)
    assert shift.clock_in_at is not None and shift.clock_out_at > shift.clock_in_at


@pytest.mark.django_db
def test_a_member_cannot_use_the_desk(client, member):
    client.force_login(member.user, backend=LOGIN_BACKEND)
    assert client.get(reverse("staff:desk_shifts"), HTTP_HOST="gym-a.test").status_code == 403


@pytest.mark.django_db
def test_a_missed_clock_out_is_flagged_not_guessed(gym, branch, owner, floor):
    # given a shift clocked in yesterday morning and never clocked out
    start = timezone.now() - timedelta(days=1)
    shift = ShiftFactory(
        organisation=gym,
        branch=branch,
        user=floor,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        clock_in_at=start,
    )

    # when the periodic job runs
    with tenant_scope(gym):
        assert services.shifts_flag_missed_clock_out() == 1
        assert services.shifts_flag_missed_clock_out() == 0

        # then it is flagged, with no clock-out time invented, and a late press is refused
        shift.refresh_from_db()
        assert shift.clock_out_missed_at is not None and shift.clock_out_at is None
        with pytest.raises(Conflict) as late:
            services.shift_clock_out(actor=floor, shift=shift)
        assert late.value.code == "clock_out_missed"

        # a manager enters the real time, with a reason
        real_end = start + timedelta(hours=7, minutes=30)
        services.shift_correct(
            actor=owner, shift=shift, clock_out_at=real_end, reason="Forgot; rota says 15:30"
        )
        shift.refresh_from_db()
        assert shift.clock_out_at == real_end


@pytest.mark.django_db
def test_a_shift_still_running_is_not_flagged(gym, branch, floor):
    start = timezone.now() - timedelta(hours=2)
    ShiftFactory(
        organisation=gym,
        branch=branch,
        user=floor,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        clock_in_at=start,
    )
    with tenant_scope(gym):
        assert services.shifts_flag_missed_clock_out() == 0


@pytest.mark.django_db
def test_overlapping_shifts_and_outsiders_are_refused(gym, branch, floor, outsider):
    start = timezone.now() + timedelta(days=1)
    with tenant_scope(gym):
        services.shift_plan(
            actor=None,
            branch=branch,
            user=floor,
            starts_at=start,
            ends_at=start + timedelta(hours=4),
        )
        with pytest.raises(Conflict):
            services.shift_plan(
                actor=None,
                branch=branch,
                user=floor,
                starts_at=start + timedelta(hours=2),
                ends_at=start + timedelta(hours=6),
            )
        with pytest.raises(Exception) as stranger:
            services.shift_plan(
                actor=None,
                branch=branch,
                user=outsider.user,
                starts_at=start,
                ends_at=start + timedelta(hours=4),
            )
    assert stranger.value.field == "user"
