from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, Payment
from memberships.models import Membership
from memberships.services import membership_purchase
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:memberships_membership_changelist"


def _action(client, action, ids, **data):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [str(i) for i in ids], **data},
    )


def test_changelist_with_filters(
    client_for, owner, member, monthly, in_gym, django_assert_max_num_queries
):
    for _ in range(5):
        MembershipFactory(member=member, plan=monthly)
    client = client_for(owner)
    client.get(reverse(CHANGELIST))
    with django_assert_max_num_queries(25):
        response = client.get(reverse(CHANGELIST), {"status__exact": "active"})
    assert response.status_code == 200
    for value in ("due", "unpaid", "cancelling"):
        assert client.get(reverse(CHANGELIST), {"billing": value}).status_code == 200


def test_freeze_action_with_form(client_for, manager, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    client = client_for(manager)
    form_page = _action(client, "freeze", [membership.pk])
    assert form_page.status_code == 200 and "First frozen day" in form_page.text
    today = timezone.localdate()
    done = _action(
        client,
        "freeze",
        [membership.pk],
        apply="1",
        start_date=today.isoformat(),
        end_date=(today + timedelta(days=9)).isoformat(),
        reason="Injury",
    )
    assert done.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.FROZEN
    assert membership.status_changes.last().actor == manager
    _action(client, "unfreeze", [membership.pk])
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


def test_freeze_action_reports_refusals(client_for, manager, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly, status="pending")
    today = timezone.localdate()
    response = _action(
        client_for(manager),
        "freeze",
        [membership.pk],
        apply="1",
        start_date=today.isoformat(),
        end_date=(today + timedelta(days=9)).isoformat(),
        reason="x",
    )
    # the refusal is shown on the form, with the dates as typed
    assert response.status_code == 200
    assert "Only an active membership can be frozen." in response.content.decode()
    assert f'value="{today.isoformat()}"' in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == Membership.Status.PENDING


def test_cancel_immediately_and_comp(client_for, owner, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    end = membership.current_period_end
    client = client_for(owner)
    _action(client, "comp_period", [membership.pk], apply="1", reason="Broken showers")
    membership.refresh_from_db()
    assert membership.current_period_end > end
    _action(client, "cancel", [membership.pk], apply="1", reason="Moved", immediately="on")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED


def test_record_payment_action_activates(client_for, front_desk, member, monthly, in_gym):
    membership = membership_purchase(member=member, plan=monthly)
    response = _action(client_for(front_desk), "record_payment", [membership.pk], apply="1")
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, payment.created_by) == (
        "manual",
        Decimal("60.00"),
        front_desk,
    )


def test_front_desk_cannot_freeze(client_for, front_desk, member, monthly, in_gym):
    membership = MembershipFactory(member=member, plan=monthly)
    today = timezone.localdate()
    _action(
        client_for(front_desk),
        "freeze",
        [membership.pk],
        apply="1",
        start_date=today.isoformat(),
        end_date=(today + timedelta(days=9)).isoformat(),
        reason="x",
    )
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


def test_member_at_a_glance_and_sell(
    client_for, front_desk, member, dependant, monthly, branch, in_gym
):
    MembershipFactory(member=member, plan=monthly)
    client = client_for(front_desk)
    url = reverse("admin:memberships_member_overview", args=[member.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert member.full_name in page.text and dependant.full_name in page.text
    sold = client.post(
        url,
        {
            "plan": PlanFactory(organisation=member.organisation, name="Pack", class_pack=True).pk,
            "branch": branch.pk,
            "start_date": timezone.localdate().isoformat(),
        },
    )
    assert sold.status_code == 302
    assert Invoice.objects.count() == 1


def test_plans_admin_retire(client_for, owner, monthly, in_gym):
    client = client_for(owner)
    assert client.get(reverse("admin:memberships_plan_changelist")).status_code == 200
    client.post(
        reverse("admin:memberships_plan_changelist"),
        {"action": "retire", "_selected_action": [monthly.pk]},
    )
    monthly.refresh_from_db()
    assert monthly.status == "retired" and monthly.retired_at is not None


def test_member_cannot_reach_admin(client_for, member, in_gym):
    response = client_for(member.user).get(reverse(CHANGELIST))
    assert response.status_code == 302
