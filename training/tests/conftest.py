import pytest

from accounts.tests.factories import MemberFactory, UserFactory
from training import services
from training.models import Exercise


@pytest.fixture
def squat(in_gym):
    return Exercise.objects.get(name="Back Squat", organisation__isnull=True)


@pytest.fixture
def bench(in_gym):
    return Exercise.objects.get(name="Bench Press", organisation__isnull=True)


@pytest.fixture
def row_erg(in_gym):
    return Exercise.objects.get(name="Rowing Machine", organisation__isnull=True)


@pytest.fixture
def other_member(branch):
    return MemberFactory(home_branch=branch, user=UserFactory(email="other@gym-a.test"))


@pytest.fixture
def assigned(in_gym, member, trainer, squat, bench):
    """A two-day plan built by the trainer and assigned to the member from today."""
    from django.utils import timezone

    plan = services.plan_create(
        name="Strength base", is_template=True, trainer=trainer, actor=trainer.user
    )
    day_a = services.plan_day_add(plan=plan, name="Day A", actor=trainer.user)
    day_b = services.plan_day_add(plan=plan, name="Day B", actor=trainer.user)
    services.plan_exercise_add(
        plan=plan,
        day=day_a,
        exercise=squat,
        prescription={"sets": 3, "reps": 5, "load": {"kg": 100}, "rest_seconds": 180},
        actor=trainer.user,
    )
    services.plan_exercise_add(
        plan=plan,
        day=day_b,
        exercise=bench,
        prescription={"sets": 3, "reps": {"min": 8, "max": 10}, "load": {"percent_of_max": 75}},
        actor=trainer.user,
    )
    return services.plan_assign(
        plan=plan,
        member=member,
        trainer=trainer,
        starts_on=timezone.localdate(),
        actor=trainer.user,
    )
