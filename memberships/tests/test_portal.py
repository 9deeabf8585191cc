"""Member portal pages: join with a price breakdown, my membership, freeze, cancel
(reason → preview → confirm), change plan; household members only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import MemberFactory, UserFactory
from billing.models import Invoice
from memberships.models import Membership
from memberships.services import membership_purchase
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_plans_page_lists_plans_on_sale(client_for, member, monthly, gym):
    PlanFactory(organisation=gym, name="Old plan", status="retired")
    response = client_for(member.user).get(reverse("memberships:plans"))
    assert response.status_code == 200
    assert "Monthly" in response.text and "Old plan" not in response.text


def test_join_shows_breakdown_then_buys(client_for, member, monthly, branch, in_gym):
    client = client_for(member.user)
    url = reverse("memberships:join", args=[monthly.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "60.00" in page.text and "Sign-up fee" in page.text
    response = client.post(
        url,
        {"member": member.pk, "branch": branch.pk, "start_date": timezone.localdate().isoformat()},
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("billing:invoice", args=[invoice.pk])
    assert Membership.objects.get().status == Membership.Status.PENDING


def test_join_for_someone_outside_household_is_refused(client_for, member, monthly, branch, in_gym):
    stranger = MemberFactory(home_branch=branch)
    response = client_for(member.user).post(
        reverse("memberships:join", args=[monthly.pk]),
        {"member": stranger.pk, "branch": branch.pk, "start_date": timezone.localdate()},
    )
    assert response.status_code == 200
    assert "member" in response.context["form"].errors
    assert not Membership.objects.exists()


def test_join_for_dependant(client_for, member, dependant, monthly, branch, in_gym):
    client_for(member.user).post(
        reverse("memberships:join", args=[monthly.pk]),
        {"member": dependant.pk, "branch": branch.pk, "start_date": timezone.localdate()},
    )
    membership = Membership.objects.get()
    assert membership.member == dependant and membership.payer == member


def test_my_memberships_shows_household(client_for, member, dependant, monthly, in_gym):
    MembershipFactory(member=member, plan=monthly)
    MembershipFactory(member=dependant, plan=monthly)
    other = MembershipFactory(
        member=MemberFactory(home_branch=member.home_branch),
        plan=PlanFactory(organisation=member.organisation, name="Not mine"),
    )
    response = client_for(member.user).get(reverse("memberships:mine"))
    assert response.status_code == 200
    assert len(response.context["memberships"]) == 2
    assert other.plan.name not in response.text


def test_cannot_see_another_members_membership(client_for, member, monthly, branch, in_gym):
    other = MembershipFactory(member=MemberFactory(home_branch=branch), plan=monthly)
    client = client_for(member.user)
    assert client.get(reverse("memberships:detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("memberships:cancel", args=[other.pk]), {}).status_code == 404


def test_dependant_with_own_login_cannot_act_for_payer(client_for, member, monthly, branch, in_gym):
    kid = MemberFactory(home_branch=branch, payer=member, user=UserFactory())
    payer_membership = MembershipFactory(member=member, plan=monthly)
    client = client_for(kid.user)
    assert client.get(reverse("memberships:detail", args=[payer_membership.pk])).status_code == 404


def test_freeze_from_portal_with_error_beside_field(client_for, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    client = client_for(member.user)
    url = reverse("memberships:freeze", args=[membership.pk])
    today = timezone.localdate()
    bad = client.post(url, {"start_date": today, "end_date": today + timedelta(days=2)})
    assert bad.status_code == 200
    assert "end_date" in bad.context["form"].errors
    ok = client.post(
        url, {"start_date": today, "end_date": today + timedelta(days=9), "confirm": "yes"}
    )
    assert ok.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.FROZEN


def test_freeze_previews_days_and_next_payment_before_booking(client_for, member, monthly, in_gym):
    # given: an active membership whose next payment is in 20 days
    today = timezone.localdate()
    membership = MembershipFactory(member=member, plan=monthly)
    next_payment = membership.current_period_end
    client = client_for(member.user)
    url = reverse("memberships:freeze", args=[membership.pk])
    dates = {"start_date": today + timedelta(days=3), "end_date": today + timedelta(days=12)}

    # when: the member gives the dates
    preview = client.post(url, dates)

    # then: the page says what happens and nothing is booked yet
    assert preview.status_code == 200
    assert preview.context["preview"].days == 10
    if next_payment:
        assert preview.context["preview"].next_payment == next_payment + timedelta(days=10)
    assert "Confirm freeze" in preview.text and "10 days" in preview.text
    assert not membership.freezes.exists()

    # when: they confirm, then cancel the planned freeze
    done = client.post(url, {**dates, "confirm": "yes"})
    assert done.status_code == 302
    assert membership.freezes.filter(status="scheduled").count() == 1
    cancelled = client.post(reverse("memberships:unfreeze", args=[membership.pk]), follow=True)

    # then: the message is about the planned freeze, not a "welcome back"
    text = cancelled.content.decode()
    assert "Your planned freeze is cancelled." in text
    assert "Welcome back" not in text


def test_cancel_in_two_steps_with_preview(client_for, member, gym, in_gym):
    plan = PlanFactory(organisation=gym, notice_period_days=30)
    membership = MembershipFactory(member=member, plan=plan)
    client = client_for(member.user)
    url = reverse("memberships:cancel", args=[membership.pk])
    # step 1: reason → the preview, nothing changed yet
    preview = client.post(url, {"reason": "moving", "details": "To Leeds"})
    assert preview.status_code == 200
    assert "Confirm cancellation" in preview.text
    assert "notice period" in preview.text
    membership.refresh_from_db()
    assert membership.cancels_on is None
    # step 2: confirm
    done = client.post(url, {"reason": "moving", "details": "To Leeds", "confirm": "yes"})
    assert done.status_code == 302
    membership.refresh_from_db()
    assert membership.cancels_on == preview.context["preview"].last_day
    assert membership.cancellation_reason == "I am moving away: To Leeds"


def test_change_plan_preview_and_confirm(client_for, member, gym, in_gym):
    basic = PlanFactory(organisation=gym, name="Basic", price=Decimal("30"))
    premium = PlanFactory(organisation=gym, name="Premium", price=Decimal("60"))
    membership = MembershipFactory(member=member, plan=basic)
    client = client_for(member.user)
    url = reverse("memberships:change", args=[membership.pk])
    page = client.get(url, {"plan": premium.pk})
    assert page.status_code == 200 and page.context["preview"].is_upgrade
    response = client.post(url, {"plan": premium.pk, "confirm": "yes"})
    assert response.status_code == 302
    assert "/billing/invoices/" in response.url


def test_detail_page_query_count(
    client_for, member, monthly, in_gym, django_assert_max_num_queries
):
    membership = MembershipFactory(member=member, plan=monthly)
    client = client_for(member.user)
    client.get(reverse("memberships:mine"))  # the session is warm, as in real use
    with django_assert_max_num_queries(20):
        assert client.get(reverse("memberships:detail", args=[membership.pk])).status_code == 200


def test_dashboard_shows_membership_card(client_for, member, monthly, in_gym):
    membership_purchase(member=member, plan=monthly)
    response = client_for(member.user).get(reverse("portal:home"))
    assert response.status_code == 200
    assert "Awaiting payment" in response.text and "60.00" in response.text
