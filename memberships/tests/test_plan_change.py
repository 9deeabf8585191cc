"""Upgrades and downgrades, prorated by days."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice, Payment, Refund
from billing.services import InvoiceLineSpec, invoice_issue, payment_record
from gymsite.errors import ServiceError
from memberships.models import Membership, PlanChange
from memberships.services import (
    MEMBERSHIP_SOURCE,
    membership_change_plan,
    membership_change_plan_preview,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
TODAY = date(2030, 4, 21)  # 10 of April's 30 days left (21-30)


@pytest.fixture
def basic(gym):
    return PlanFactory(organisation=gym, name="Basic", price=Decimal("30.00"))


@pytest.fixture
def premium(gym):
    return PlanFactory(organisation=gym, name="Premium", price=Decimal("60.00"))


@pytest.fixture
def membership(in_gym, member, basic, branch):
    membership = MembershipFactory(
        member=member,
        plan=basic,
        price=basic.price,
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 4, 1),
        current_period_end=date(2030, 4, 30),
    )
    # the April period was paid 36.00 (30 + 20% tax)
    invoice = invoice_issue(
        payer=member,
        branch=branch,
        lines=[
            InvoiceLineSpec(
                description="Basic April",
                quantity=1,
                unit_price=Decimal("30"),
                source_type="tests.none",
                source_id=str(membership.pk),
            )
        ],
    )
    invoice.lines.update(source_type=MEMBERSHIP_SOURCE)
    payment_record(invoice=invoice, amount=Decimal("36.00"))
    return membership


def test_upgrade_preview_prorates_by_days(membership, premium):
    preview = membership_change_plan_preview(membership=membership, to_plan=premium, today=TODAY)
    assert (preview.remaining_days, preview.period_days) == (10, 30)
    assert preview.credit == Decimal("10.00")
    assert preview.charge == Decimal("20.00")
    assert preview.net == Decimal("10.00")
    assert preview.new_period_end == date(2030, 4, 30)


def test_upgrade_applies_when_its_invoice_is_paid(membership, premium):
    change = membership_change_plan(membership=membership, to_plan=premium, today=TODAY)
    assert change.status == PlanChange.Status.AWAITING_PAYMENT
    membership.refresh_from_db()
    assert membership.plan.name == "Basic"
    invoice = Invoice.objects.get(billing_key=f"planchange:{change.pk}")
    assert invoice.subtotal == Decimal("10.00")  # 20.00 new - 10.00 unused
    assert invoice.total == Decimal("12.00")
    payment_record(invoice=invoice, amount=Decimal("12.00"))
    membership.refresh_from_db()
    change.refresh_from_db()
    assert change.status == PlanChange.Status.APPLIED
    assert membership.plan == premium
    assert membership.price == Decimal("60.00")
    assert membership.current_period_end == date(2030, 4, 30)


def test_downgrade_applies_now_and_refunds_difference(membership, basic, gym):
    cheap = PlanFactory(organisation=gym, name="Off-peak", price=Decimal("15.00"))
    preview = membership_change_plan_preview(membership=membership, to_plan=cheap, today=TODAY)
    assert preview.net == Decimal("-5.00")  # 5.00 new - 10.00 unused
    membership_change_plan(membership=membership, to_plan=cheap, today=TODAY)
    membership.refresh_from_db()
    assert membership.plan == cheap
    refund = Refund.objects.get()
    assert refund.amount == Decimal("6.00")  # 5.00 + 20% tax, back on the April payment
    assert Payment.objects.get().amount_refunded == Decimal("6.00")


def test_change_to_yearly_starts_a_new_period(membership, gym):
    yearly = PlanFactory(
        organisation=gym, name="Yearly", price=Decimal("300.00"), billing_interval="year"
    )
    preview = membership_change_plan_preview(membership=membership, to_plan=yearly, today=TODAY)
    assert preview.new_period_end == date(2031, 4, 20)
    assert preview.charge == Decimal("300.00")
    assert preview.net == Decimal("290.00")


@pytest.mark.parametrize("case", ["same", "pack", "frozen"])
def test_refused_changes(membership, gym, case):
    if case == "same":
        to_plan, code = membership.plan, "same_plan"
    elif case == "pack":
        to_plan, code = PlanFactory(organisation=gym, class_pack=True), "not_recurring"
    else:
        Membership.objects.filter(pk=membership.pk).update(status="frozen")
        membership.refresh_from_db()
        to_plan, code = PlanFactory(organisation=gym), "not_active"
    with pytest.raises(ServiceError) as error:
        membership_change_plan(membership=membership, to_plan=to_plan, today=TODAY)
    assert error.value.code == code
    assert not PlanChange.objects.exists()
