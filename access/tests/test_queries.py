"""The check-in path is a handful of queries, whatever the size of the access log."""

import pytest

from access.tests.factories import AccessLogFactory, CredentialFactory, membership_make, plan_make
from memberships.models import Membership, Plan

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


def test_unlimited_checkin_query_count(device_client, active_member, django_assert_max_num_queries):
    # given: some history for the member
    card = CredentialFactory(member=active_member)
    AccessLogFactory.create_batch(5, member=active_member, branch=active_member.home_branch)
    # when / then: the gym by host name (middleware), the device (and, once a minute,
    # its last-seen stamp), credential with the member's membership rows, opening
    # hours and plan branches (then cached per worker for a few seconds), the insert
    # (and, in a test's transaction, a savepoint around it)
    with django_assert_max_num_queries(9):
        response = device_client.post(URL, {"credential": card.number}, format="json")
    assert response.json()["result"] == "granted"
    # warm: gym, device, credential with memberships, insert (+ savepoint, release)
    with django_assert_max_num_queries(6):
        response = device_client.post(URL, {"credential": card.number}, format="json")
    assert response.json()["result"] == "granted"


def test_limited_ticket_checkin_query_count(
    device_client, active_member, django_assert_max_num_queries
):
    card = CredentialFactory(member=active_member)
    plan = plan_make(active_member.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=3)

    Membership.objects.unscoped().filter(member=active_member).delete()
    membership_make(active_member, plan=plan)
    # + the membership row lock, the same-visit check under the lock, and
    # memberships' consume service (savepoint, conditional UPDATE, refresh, release)
    with django_assert_max_num_queries(15):
        response = device_client.post(URL, {"credential": card.number}, format="json")
    assert response.json()["entry_consumed"] is True
