"""A member with a home-branch membership and a newer day pass for another branch:
the online door, the offline allow-list and an offline upload all choose alike."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AccessLog
from access.tests.factories import CredentialFactory, device_with_key, membership_make, plan_make
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, UserFactory
from memberships.models import Membership, Plan

pytestmark = pytest.mark.django_db

ALLOWLIST = "/api/v1/access/allowlist"
CHECKIN = "/api/v1/access/checkin"
UPLOAD = "/api/v1/access/offline-events"


@pytest.fixture
def day_pass_holder(branch, other_branch):
    """Home membership at North since last year; a day pass for South bought today
    (newer, so it is the deciding membership)."""
    member = MemberFactory(home_branch=branch, user=UserFactory())
    home_plan = plan_make(member.organisation, name="North only")
    with tenant_scope(branch.organisation):
        home_plan.branches.set([branch])
    home = membership_make(
        member, plan=home_plan, start_date=timezone.localdate() - timedelta(days=365)
    )
    pass_plan = plan_make(
        member.organisation, name="South day pass", kind=Plan.Kind.ENTRY_TICKET, entries=1
    )
    with tenant_scope(branch.organisation):
        pass_plan.branches.set([other_branch])
    today = timezone.localdate()
    day_pass = membership_make(member, plan=pass_plan, start_date=today, end_date=today)
    card = CredentialFactory(member=member, number="DAYPASS1")
    return member, home, day_pass, card


def _client_for(branch):
    from rest_framework.test import APIClient

    _, key = device_with_key(branch)
    client = APIClient(HTTP_HOST="gym-a.test")
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def test_offline_list_lets_in_at_home_whom_the_online_door_lets_in(device_client, day_pass_holder):
    member, home, _day_pass, card = day_pass_holder
    # when: the North door asks online, and the North device takes its offline list
    online = device_client.post(CHECKIN, {"credential": card.number}, format="json").json()
    listed = {e["member"]: e for e in device_client.get(ALLOWLIST).json()["payload"]["members"]}[
        member.pk
    ]
    # then: both let them in, on the home membership (no entries to count)
    assert online["result"] == "granted"
    assert (listed["allowed"], listed["reason"]) == (True, "ok")
    assert listed["entries_remaining"] is None
    assert listed["valid_from"] == home.start_date.isoformat()


def test_offline_list_at_the_day_pass_branch_lists_the_day_pass(other_branch, day_pass_holder):
    member, _home, day_pass, _card = day_pass_holder
    south = _client_for(other_branch)
    listed = {e["member"]: e for e in south.get(ALLOWLIST).json()["payload"]["members"]}[member.pk]
    assert (listed["allowed"], listed["entries_remaining"]) == (True, 1)
    assert listed["valid_until"] == day_pass.end_date.isoformat()


def test_offline_list_still_refuses_when_no_membership_opens_the_branch(
    branch, other_branch, day_pass_holder
):
    # given: the home membership is frozen; only the South day pass is usable
    member, home, _day_pass, _card = day_pass_holder
    Membership.objects.unscoped().filter(pk=home.pk).update(status=Membership.Status.FROZEN)
    listed = {
        e["member"]: e for e in _client_for(branch).get(ALLOWLIST).json()["payload"]["members"]
    }[member.pk]
    # then: the deciding membership's reason (the day pass is not for North)
    assert (listed["allowed"], listed["reason"]) == (False, "branch_not_included")


def test_offline_entry_at_home_does_not_use_the_day_pass(device_client, day_pass_holder):
    # given: the North device let them in while offline
    _member, home, day_pass, card = day_pass_holder
    event = {
        "request_id": "off-home-1",
        "credential": card.number,
        "occurred_at": timezone.now().isoformat(),
        "result": "granted",
        "reason": "ok",
    }
    # when
    body = device_client.post(UPLOAD, {"events": [event]}, format="json").json()
    # then: the visit counts on the home membership; the day pass keeps its entry
    log = AccessLog.objects.unscoped().get(pk=body["results"][0]["log_id"])
    assert (log.membership_id, log.entry_consumed) == (home.pk, False)
    day_pass.refresh_from_db()
    assert day_pass.entries_remaining == 1
