"""The back office shows and takes dates and times in the gym's own time zone."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Organisation

pytestmark = pytest.mark.django_db


def _admin_utc_offset(client) -> int:
    page = client.get("/admin/").content.decode()
    return int(re.search(r'data-admin-utc-offset="(-?\d+)"', page).group(1))


def _offset(zone: str) -> int:
    return int(datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds())


def test_branch_staff_work_in_their_branchs_time_zone(branch, manager, client_for):
    type(branch).objects.unscoped().filter(pk=branch.pk).update(timezone="America/New_York")
    assert _admin_utc_offset(client_for(manager)) == _offset("America/New_York")


def test_owners_work_in_the_gyms_default_time_zone(gym, branch, owner, client_for):
    type(branch).objects.unscoped().filter(pk=branch.pk).update(timezone="America/New_York")
    Organisation.objects.filter(pk=gym.pk).update(default_timezone="Asia/Tokyo")
    assert _admin_utc_offset(client_for(owner)) == _offset("Asia/Tokyo")
