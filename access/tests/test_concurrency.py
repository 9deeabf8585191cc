"""Entries are consumed once, whatever devices retry at the same moment (real threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from access.models import AccessLog, Result
from access.tests.factories import CredentialFactory, device_with_key, membership_make, plan_make
from accounts.tests.factories import MemberFactory, UserFactory
from memberships.models import Membership, Plan

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/access/checkin"


def _run_together(count, action):
    """Run ``action(i)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait()
            return action(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.fixture
def ticket_holder(branch):
    member = MemberFactory(home_branch=branch, user=UserFactory())
    plan = plan_make(member.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=10)
    membership = membership_make(member, plan=plan)
    return member, membership, CredentialFactory(member=member)


def _post(key, body):
    client = APIClient(HTTP_HOST="gym-a.test")
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_retries_of_one_request_consume_one_entry(branch, ticket_holder):
    # given: a turnstile that retries the same request 20 times at once
    member, membership, card = ticket_holder
    _device, key = device_with_key(branch)
    body = {"credential": card.number, "request_id": "req-0001"}
    # when
    replies = _run_together(20, lambda i: _post(key, body))
    # then: one decision, one log row, one entry
    assert {r["log_id"] for r in replies} == {replies[0]["log_id"]}
    assert all(r["result"] == "granted" and r["entry_consumed"] for r in replies)
    assert sum(1 for r in replies if not r["replayed"]) == 1
    membership.refresh_from_db()
    assert membership.entries_remaining == 9
    assert AccessLog.objects.unscoped().filter(member=member).count() == 1


def test_two_turnstiles_at_once_charge_one_visit(branch, ticket_holder):
    # given: the member taps two different turnstiles at the same instant
    _member, membership, card = ticket_holder
    keys = [device_with_key(branch)[1] for _ in range(10)]
    # when
    replies = _run_together(
        10, lambda i: _post(keys[i], {"credential": card.number, "request_id": f"r{i}"})
    )
    # then: all let in, one entry charged (the others are the same visit)
    assert all(r["result"] == "granted" for r in replies)
    assert sum(r["entry_consumed"] for r in replies) == 1
    membership.refresh_from_db()
    assert membership.entries_remaining == 9


def test_last_entry_is_taken_once(branch):
    # given: a ticket with one entry left, shared by nobody but raced by many devices
    # on separate visits (re-entry window 0)
    from access.tests.factories import AccessPolicyFactory

    AccessPolicyFactory(branch=branch, reentry_minutes=0)
    member = MemberFactory(home_branch=branch, user=UserFactory())
    plan = plan_make(member.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=10)
    membership = membership_make(member, plan=plan, entries_remaining=1)
    card = CredentialFactory(member=member)
    keys = [device_with_key(branch)[1] for _ in range(12)]
    # when
    replies = _run_together(
        12, lambda i: _post(keys[i], {"credential": card.number, "request_id": f"x{i}"})
    )
    # then: exactly one grant; the rest are told no entries are left
    granted = [r for r in replies if r["result"] == "granted"]
    assert len(granted) == 1
    assert {r["reason"] for r in replies if r["result"] == "denied"} == {"no_entries_left"}
    membership.refresh_from_db()
    assert membership.entries_remaining == 0
    assert AccessLog.objects.unscoped().filter(member=member, result=Result.GRANTED).count() == 1
    assert Membership.objects.unscoped().get(pk=membership.pk).entries_remaining == 0


def test_concurrent_uploads_of_the_same_offline_batch_count_once(branch, ticket_holder):
    # given: a device whose upload timed out re-sends the batch while the first is running
    from datetime import timedelta

    from django.utils import timezone

    member, membership, card = ticket_holder
    _device, key = device_with_key(branch)
    start = timezone.now() - timedelta(days=5)
    events = [
        {
            "request_id": f"off-{i}",
            "credential": card.number,
            "occurred_at": (start + timedelta(days=i)).isoformat(),
            "result": "granted",
        }
        for i in range(4)
    ]

    def upload(_):
        client = APIClient(HTTP_HOST="gym-a.test")
        client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
        response = client.post("/api/v1/access/offline-events", {"events": events}, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    # when
    replies = _run_together(8, upload)
    # then: four visits applied once in all, four entries used
    assert sum(r["applied"] for r in replies) == 4
    membership.refresh_from_db()
    assert membership.entries_remaining == 6
    assert AccessLog.objects.unscoped().filter(member=member).count() == 4
