import random

import pytest

from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from training import demo, selectors
from training.models import BodyMetric, PersonalRecord, Plan, SetLog, WorkoutSession

pytestmark = pytest.mark.django_db


def test_demo_seed_gives_trainers_clients_with_months_of_progress(gym, branch, in_gym):
    trainers = [TrainerProfileFactory(organisation=gym) for _ in range(2)]
    members = [MemberFactory(home_branch=branch) for _ in range(4)]

    demo.seed(organisation=gym, rng=random.Random(1))
    demo.seed(organisation=gym, rng=random.Random(1))  # idempotent

    assert Plan.objects.filter(is_template=True).count() == 2
    assert WorkoutSession.objects.count() > 4 * 30
    assert SetLog.objects.count() > 1000
    clients = selectors.trainer_clients(trainer=trainers[0])
    assert {row.member.pk for row in clients} == {members[0].pk, members[2].pk}
    assert all(row.records and row.weight and row.planned for row in clients)
    weights = selectors.metric_series(member=members[0], kind="weight")
    assert len(weights) == 17 and weights[-1]["value"] < weights[0]["value"]
    squat = selectors.most_logged_exercise(member=members[0])
    e1rm = selectors.e1rm_series(member=members[0], exercise_id=squat.pk)
    assert e1rm[-1]["value"] > e1rm[0]["value"]
    assert PersonalRecord.objects.filter(member=members[0], kind="best_e1rm").exists()
    assert BodyMetric.objects.filter(kind="custom").count() == 4 * 5
