"""The reports' demo seed gives every report a year of history, once."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AccessLog
from access.tests.factories import AccessLogFactory
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from memberships.models import Membership
from memberships.tests.factories import PlanFactory
from reports import demo
from reports.models import DailyFigures

pytestmark = pytest.mark.django_db


def test_demo_seed_adds_a_year_and_runs_once(gym, branch, owner):
    PlanFactory(organisation=gym)
    for _ in range(3):
        member = MemberFactory(organisation=gym, home_branch=branch)
        AccessLogFactory(
            branch=branch, member=member, occurred_at=timezone.now() - timedelta(days=3)
        )
    with tenant_scope(gym):
        demo.seed(organisation=gym, rng=random.Random(1))
        oldest = AccessLog.objects.order_by("occurred_at").first().occurred_at
        assert timezone.now() - oldest > timedelta(days=300)
        assert Membership.objects.filter(status=Membership.Status.CANCELLED).count() == 3
        days = DailyFigures.objects.filter(branch=branch)
        assert days.count() > 365
        assert sum(d.checkins for d in days) == AccessLog.objects.count()
        logs = AccessLog.objects.count()
        demo.seed(organisation=gym, rng=random.Random(1))
        assert AccessLog.objects.count() == logs
