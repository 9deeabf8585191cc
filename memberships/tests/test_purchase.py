from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from billing.models import Invoice
from billing.services import payment_record
from gymsite.errors import ServiceError
from memberships.models import Membership, Plan
from memberships.services import membership_open_invoices, membership_purchase, plan_price_breakdown
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_buy_then_pay_activates(in_gym, member, monthly, branch, front_desk):
    # given: a £40 monthly plan with a £10 sign-up fee at a 20% tax branch
    today = timezone.localdate()
    # when: the member buys it
    membership = membership_purchase(member=member, plan=monthly, actor=member.user)
    # then: pending, with its first invoice for 60.00
    assert membership.status == Membership.Status.PENDING
    invoice = membership_open_invoices(membership).get()
    assert invoice.total == Decimal("60.00")
    assert [line.description.split(" (")[0] for line in invoice.lines.all()] == [
        "Monthly",
        "Sign-up fee",
    ]
    # when: the front desk takes the money
    payment_record(invoice=invoice, amount=Decimal("60.00"), actor=front_desk)
    # then: active for its first month, history recorded
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.current_period_start == today
    assert membership.current_period_end == today + relativedelta(months=1) - timedelta(days=1)
    assert membership.auto_renew is True
    history = list(membership.status_changes.values_list("from_status", "to_status"))
    assert history == [("", "pending"), ("pending", "active")]
    assert "paid" in membership.status_changes.last().reason


def test_buying_again_while_pending_returns_the_same(in_gym, member, monthly):
    first = membership_purchase(member=member, plan=monthly)
    again = membership_purchase(member=member, plan=monthly)
    assert first.pk == again.pk
    assert Invoice.objects.count() == 1


def test_breakdown_matches_invoice(in_gym, member, monthly, branch):
    breakdown = plan_price_breakdown(plan=monthly, branch=branch)
    assert breakdown.subtotal == Decimal("50.00")
    assert breakdown.tax == Decimal("10.00")
    assert breakdown.total == Decimal("60.00")
    assert breakdown.next_charge_amount == Decimal("48.00")
    membership = membership_purchase(member=member, plan=monthly)
    assert membership_open_invoices(membership).get().total == breakdown.total


def test_free_first_period_activates_at_once(in_gym, member, gym):
    plan = PlanFactory(organisation=gym, intro_price=Decimal("0"))
    membership = membership_purchase(member=member, plan=plan)
    assert membership.status == Membership.Status.ACTIVE
    assert Invoice.objects.get().status == Invoice.Status.PAID


def test_class_pack_gets_credits_and_expiry(in_gym, member, gym, branch):
    plan = PlanFactory(organisation=gym, class_pack=True, credits=10, credit_validity_days=60)
    membership = membership_purchase(member=member, plan=plan)
    payment_record(invoice=membership_open_invoices(membership).get(), amount=Decimal("96.00"))
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.credits_remaining == 10
    assert membership.end_date == timezone.localdate() + timedelta(days=59)
    assert membership.auto_renew is False


def test_entry_ticket_window(in_gym, member, gym):
    today = timezone.localdate()
    plan = PlanFactory(
        organisation=gym,
        entry_ticket=True,
        entries=5,
        valid_from=today + timedelta(days=3),
        valid_until=today + timedelta(days=30),
    )
    membership = membership_purchase(member=member, plan=plan)
    assert membership.start_date == today + timedelta(days=3)
    assert membership.end_date == today + timedelta(days=30)
    assert membership.entries_remaining == 5


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": Plan.Status.RETIRED}, "plan_retired"),
    ],
)
def test_retired_plan_cannot_be_bought(in_gym, member, monthly, change, code):
    Plan.objects.filter(pk=monthly.pk).update(**change)
    monthly.refresh_from_db()
    with pytest.raises(ServiceError) as error:
        membership_purchase(member=member, plan=monthly)
    assert error.value.code == code
    assert error.value.field == "plan"
    assert Membership.objects.count() == 0


def test_plan_limited_to_another_branch(in_gym, member, monthly, other_branch):
    monthly.branches.add(other_branch)
    with pytest.raises(ServiceError) as error:
        membership_purchase(member=member, plan=monthly)
    assert error.value.code == "plan_not_at_branch"
    assert Membership.objects.count() == 0 and Invoice.objects.count() == 0


def test_start_in_the_past_is_refused(in_gym, member, monthly):
    with pytest.raises(ServiceError) as error:
        membership_purchase(
            member=member, plan=monthly, start_date=timezone.localdate() - timedelta(days=1)
        )
    assert error.value.field == "start_date"
    assert Membership.objects.count() == 0


def test_dependant_membership_is_billed_to_payer(in_gym, member, dependant, monthly):
    membership = membership_purchase(member=dependant, plan=monthly, actor=member.user)
    assert membership.payer == member
    assert membership_open_invoices(membership).get().payer == member


def test_second_running_membership_of_the_same_recurring_plan_is_refused(in_gym, member, monthly):
    MembershipFactory(member=member, plan=monthly)
    with pytest.raises(ServiceError) as error:
        membership_purchase(member=member, plan=monthly)
    assert error.value.code == "already_on_plan"
    assert Membership.objects.count() == 1


def test_another_class_pack_can_be_bought(in_gym, member, gym):
    pack = PlanFactory(organisation=gym, class_pack=True)
    MembershipFactory(member=member, plan=pack)
    assert membership_purchase(member=member, plan=pack).status == Membership.Status.PENDING
