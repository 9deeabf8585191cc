"""A trainer is never in two branches at once: the one trainer-busy rule sees every
branch, even under a branch manager's scope; staff may override, and it is recorded."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from accounts.tenancy import tenant_scope
from accounts.tests.factories import TrainerProfileFactory, UserFactory
from classes import selectors, services
from classes.models import ClassSchedule
from classes.tests.factories import ClassSessionFactory, ClassTypeFactory
from gymsite.errors import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def coach(gym):
    return TrainerProfileFactory(organisation=gym, user=UserFactory(email="busy@gym-a.test"))


@pytest.fixture
def teaching_south(gym, other_branch, coach):
    """The coach teaches at South in two days' time."""
    return ClassSessionFactory(organisation=gym, branch=other_branch, trainer=coach)


def test_trainer_busy_sees_other_branches_under_a_branch_scope(gym, branch, coach, teaching_south):
    # when: North's manager asks whether the coach is free at that time
    with tenant_scope(gym, branch_ids={branch.pk}):
        busy = selectors.trainer_busy(
            trainer_id=coach.pk,
            starts_at=teaching_south.starts_at + timedelta(minutes=30),
            ends_at=teaching_south.ends_at + timedelta(minutes=30),
        )
    # then: the class at South counts
    assert busy == selectors.CLASS


def test_substitute_busy_in_another_branch_is_refused_unless_overridden(
    gym, branch, coach, teaching_south, manager
):
    with tenant_scope(gym, branch_ids={branch.pk}):
        north = ClassSessionFactory(
            organisation=gym, branch=branch, starts_at=teaching_south.starts_at
        )
        # when: North's manager makes the coach substitute at the same time
        with pytest.raises(Conflict) as refused:
            services.session_update(session=north.pk, actor=manager, trainer=coach)
        # then: refused, with a clear message beside the trainer field
        assert refused.value.code == "trainer_busy" and refused.value.field == "trainer"
        assert "another class" in refused.value.message
        north.refresh_from_db()
        assert north.trainer_id is None

        # when: they override on purpose
        services.session_update(
            session=north.pk, actor=manager, trainer=coach, allow_trainer_clash=True
        )
        # then: done, and the audit log says it was an override
        north.refresh_from_db()
        assert north.trainer_id == coach.pk
        entry = AuditLog.objects.get(action="session.edit", target_id=str(north.pk))
        assert entry.data["trainer_clash_overridden"] == selectors.CLASS


def test_new_series_with_a_trainer_teaching_elsewhere_is_refused(
    gym, branch, coach, teaching_south
):
    # given: a weekly series at North on the weekday and time the coach teaches at South
    local = timezone.localtime(teaching_south.starts_at)
    with tenant_scope(gym, branch_ids={branch.pk}):
        draft = ClassSchedule(
            organisation=gym,
            branch=branch,
            class_type=ClassTypeFactory(organisation=gym),
            trainer=coach,
            weekdays=[local.weekday()],
            start_time=time(local.hour, local.minute),
            duration_minutes=45,
            capacity=10,
            starts_on=timezone.localdate(),
        )
        # when / then
        with pytest.raises(Conflict) as refused:
            services.check_schedule_trainer_free(draft)
        assert refused.value.field == "trainer"
        assert local.strftime("%d/%m/%Y") in refused.value.message
        # an hour later is free
        draft.start_time = time((local.hour + 2) % 24, local.minute)
        if local.hour < 21:
            services.check_schedule_trainer_free(draft)
