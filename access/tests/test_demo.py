import random

import pytest

from access import demo
from access.models import AccessDevice, AccessLog
from accounts import demo as accounts_demo
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_devices_and_weeks_of_logs_and_is_idempotent(gym):
    with tenant_scope(gym):
        accounts_demo.seed(organisation=gym, rng=random.Random(1))
        demo.seed(organisation=gym, rng=random.Random(1))
        devices = AccessDevice.objects.count()
        logs = AccessLog.objects.count()
        demo.seed(organisation=gym, rng=random.Random(1))
        assert AccessDevice.objects.count() == devices >= 3
        assert AccessLog.objects.count() == logs > 100
        oldest = AccessLog.objects.order_by("occurred_at").first().occurred_at
        newest = AccessLog.objects.order_by("-occurred_at").first().occurred_at
        assert (newest - oldest).days >= 21
