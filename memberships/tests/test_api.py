"""API: plans, member with membership, purchase, freeze, cancel. Members act for
themselves and their household only; staff for members of their branches; bad input
is a 400 with field messages and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import MemberFactory
from memberships.models import Membership
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_plans_are_public(api_client, monthly, gym):
    PlanFactory(organisation=gym, status="retired")
    response = api_client.get("/api/v1/plans")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == ["Monthly"]
    assert response.json()["results"][0]["price"] == "40.00"


def test_member_sees_self_with_membership(api_client, member, monthly, in_gym):
    MembershipFactory(member=member, plan=monthly)
    api_client.force_authenticate(member.user)
    body = api_client.get(f"/api/v1/members/{member.pk}").json()
    assert body["membership"]["status"] == "active"
    assert body["membership"]["plan"]["name"] == "Monthly"
    assert len(body["memberships"]) == 1


def test_member_cannot_see_or_buy_for_others(api_client, member, monthly, branch, in_gym):
    stranger = MemberFactory(home_branch=branch)
    api_client.force_authenticate(member.user)
    assert api_client.get(f"/api/v1/members/{stranger.pk}").status_code == 404
    response = api_client.post(f"/api/v1/members/{stranger.pk}/memberships", {"plan": monthly.pk})
    assert response.status_code == 404
    assert not Membership.objects.exists()


def test_payer_buys_for_dependant(api_client, member, dependant, monthly, in_gym):
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/members/{dependant.pk}/memberships", {"plan": monthly.pk})
    assert response.status_code == 201
    body = response.json()
    assert body["membership"]["status"] == "pending"
    assert body["membership"]["payer"] == member.pk
    assert body["invoice"]["total"] == "60.00"


def test_staff_of_branch_buys_for_member_but_not_other_branch(
    api_client, front_desk, member, monthly, other_branch, in_gym
):
    api_client.force_authenticate(front_desk)
    assert (
        api_client.post(
            f"/api/v1/members/{member.pk}/memberships", {"plan": monthly.pk}
        ).status_code
        == 201
    )
    elsewhere = MemberFactory(home_branch=other_branch)
    assert (
        api_client.post(
            f"/api/v1/members/{elsewhere.pk}/memberships", {"plan": monthly.pk}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "plan"),
        ({"plan": 999999}, "plan"),
        ({"plan": "abc"}, "plan"),
        ({"plan": "PLAN", "start_date": "not-a-date"}, "start_date"),
        ({"plan": "PLAN", "start_date": "2000-01-01"}, "start_date"),
        ({"plan": "RETIRED"}, "plan"),
    ],
)
def test_bad_purchase_input(api_client, member, monthly, gym, in_gym, payload, field):
    retired = PlanFactory(organisation=gym, status="retired")
    payload = {
        k: (monthly.pk if v == "PLAN" else retired.pk if v == "RETIRED" else v)
        for k, v in payload.items()
    }
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/members/{member.pk}/memberships", payload)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Membership.objects.exists()


def test_renew_an_ended_membership(api_client, member, monthly, in_gym):
    old = MembershipFactory(member=member, plan=monthly, status="expired")
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/members/{member.pk}/memberships", {"renew": old.pk})
    assert response.status_code == 201
    assert response.json()["membership"]["plan"]["id"] == monthly.pk


def test_freeze_and_bad_freeze(api_client, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    api_client.force_authenticate(member.user)
    today = timezone.localdate()
    too_long = api_client.post(
        f"/api/v1/memberships/{membership.pk}/freeze",
        {"start_date": today.isoformat(), "end_date": (today + timedelta(days=200)).isoformat()},
    )
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "freeze_too_long"
    assert "end_date" in too_long.json()["fields"]
    membership.refresh_from_db()
    assert membership.status == "active"
    missing = api_client.post(f"/api/v1/memberships/{membership.pk}/freeze", {})
    assert missing.status_code == 400 and "start_date" in missing.json()["fields"]
    ok = api_client.post(
        f"/api/v1/memberships/{membership.pk}/freeze",
        {"start_date": today.isoformat(), "end_date": (today + timedelta(days=9)).isoformat()},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "frozen"


def test_cancel_preview_then_cancel(api_client, member, gym, in_gym):
    membership = MembershipFactory(
        member=member, plan=PlanFactory(organisation=gym, notice_period_days=30)
    )
    api_client.force_authenticate(member.user)
    preview = api_client.get(f"/api/v1/memberships/{membership.pk}/cancel").json()
    assert preview["immediate"] is False and preview["remaining_payments"] == 1
    no_reason = api_client.post(f"/api/v1/memberships/{membership.pk}/cancel", {})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    forced = api_client.post(
        f"/api/v1/memberships/{membership.pk}/cancel", {"reason": "x", "immediately": True}
    )
    assert forced.status_code == 403
    done = api_client.post(f"/api/v1/memberships/{membership.pk}/cancel", {"reason": "Moving"})
    assert done.status_code == 200
    assert done.json()["cancels_on"] == preview["last_day"]


def test_member_of_other_gym_gets_nothing(api_client, outsider, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    api_client.force_authenticate(outsider.user)
    assert api_client.post(
        f"/api/v1/memberships/{membership.pk}/cancel", {"reason": "x"}
    ).status_code in (403, 404)
    membership.refresh_from_db()
    assert membership.cancels_on is None
