"""Figures computed by hand on a small data set: a DST day, a refund, a credit note,
a household, a frozen member and a branch in another time zone."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from access.tests.factories import AccessLogFactory
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    PaymentFactory,
    RefundFactory,
)
from memberships.models import Membership
from memberships.tests.factories import MembershipFactory, MembershipFreezeFactory, PlanFactory
from reports import rollups, selectors
from reports.selectors.attendance import heatmap
from reports.selectors.base import figure_rows, totals
from reports.selectors.members import active_members_at, freezes_in_force

pytestmark = pytest.mark.django_db

# 29 March 2026: the UK's clocks go forward at 01:00 UTC (a 23-hour day in London).
DST_DAY = date(2026, 3, 29)
NEXT_DAY = date(2026, 3, 30)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def chain(gym, branch, other_branch):
    branch.timezone = "Europe/London"
    branch.save()
    other_branch.timezone = "America/New_York"
    other_branch.save()
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    payer = MemberFactory(organisation=gym, home_branch=branch, joined_at=utc(2026, 3, 29, 1, 30))
    # A household: the child's membership is paid by the parent, and is its own membership.
    child = MemberFactory(
        organisation=gym, home_branch=branch, payer=payer, joined_at=utc(2026, 3, 28, 23, 30)
    )
    frozen = MemberFactory(organisation=gym, home_branch=other_branch)
    MembershipFactory(member=payer, plan=plan, start_date=DST_DAY)
    MembershipFactory(member=child, payer=payer, plan=plan, start_date=DST_DAY)
    frozen_membership = MembershipFactory(
        member=frozen, plan=plan, start_date=date(2026, 1, 5), status=Membership.Status.FROZEN
    )
    MembershipFreezeFactory(
        membership=frozen_membership,
        start_date=date(2026, 3, 20),
        end_date=date(2026, 4, 5),
        status="active",
    )
    # Door: 00:30 GMT and 02:30 BST on the DST day; 23:30 UTC is already the 30th in London.
    for at in (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 23, 30)):
        AccessLogFactory(branch=branch, member=payer, occurred_at=at, received_at=at)
    # 03:00 UTC on the 30th is 23:00 on the 29th in New York.
    AccessLogFactory(
        branch=other_branch,
        member=frozen,
        occurred_at=utc(2026, 3, 30, 3, 0),
        received_at=utc(2026, 3, 30, 3, 0),
    )
    # Money: invoiced 100 + 20 tax; a credit note of 60; a payment of 120, 24 refunded.
    invoice = InvoiceFactory(
        branch=branch,
        payer=payer,
        subtotal=Decimal("100.00"),
        tax_total=Decimal("20.00"),
        total=Decimal("120.00"),
        issued_at=utc(2026, 3, 29, 12),
        status="paid",
    )
    InvoiceLineFactory(
        invoice=invoice,
        organisation=gym,
        description="Monthly",
        quantity=1,
        unit_price=Decimal("100.00"),
        tax_rate=Decimal("0.2000"),
        subtotal=Decimal("100.00"),
        tax_amount=Decimal("20.00"),
        total=Decimal("120.00"),
        source_type=rollups.MEMBERSHIP_LINE,
        source_id=str(Membership.objects.unscoped().get(member=payer).pk),
    )
    CreditNoteFactory(invoice=invoice, amount=Decimal("60.00"), created_at=utc(2026, 3, 30, 10))
    payment = PaymentFactory(
        invoice=invoice, amount=Decimal("120.00"), completed_at=utc(2026, 3, 29, 12, 5)
    )
    RefundFactory(
        payment=payment,
        amount=Decimal("24.00"),
        created_at=utc(2026, 3, 30, 11),
        completed_at=utc(2026, 3, 30, 11),
        credit_note__amount=Decimal("24.00"),
        credit_note__created_at=utc(2026, 3, 30, 11),
    )
    rollups.rollup_rebuild(organisation_id=gym.pk, start=date(2026, 1, 1), end=date(2026, 4, 30))
    return {"plan": plan, "payer": payer, "child": child, "frozen": frozen}


def test_each_figure_by_hand(gym, branch, other_branch, chain):
    with tenant_scope(gym):
        period = selectors.period_for(start=DST_DAY, end=NEXT_DAY)
        days = figure_rows(period, by_branch=True)
        north_29, north_30 = days[(DST_DAY, branch.pk)], days[(NEXT_DAY, branch.pk)]
        south_29 = days[(DST_DAY, other_branch.pk)]
        # Door, in local days and hours.
        assert north_29["checkins"] == 2
        assert north_30["checkins"] == 1
        assert south_29["checkins"] == 1
        grid = heatmap(period)
        assert grid[6][0] == 1 + 0  # Sunday 00:xx: London's 00:30 GMT
        assert grid[6][2] == 1  # Sunday 02:30 BST (01:00-02:00 does not exist that day)
        assert grid[6][23] == 1  # Sunday 23:00 in New York
        assert grid[0][0] == 1  # Monday 00:30 BST
        # Sign-ups: 23:30 UTC on the 28th is still the 28th in London (GMT).
        assert north_29["signups"] == 1
        # Money: revenue net of credit notes (60 incl. tax → 50 net; 24 → 20 net), tax apart.
        assert north_29["invoiced_net"] == Decimal("100.00")
        assert north_29["invoiced_tax"] == Decimal("20.00")
        assert north_30["credited_net"] == Decimal("70.00")
        assert north_30["credited_tax"] == Decimal("14.00")
        assert north_29["collected"] == Decimal("120.00")
        assert north_30["refunded"] == Decimal("24.00")
        report = selectors.money_report(period)
        figures = {label: value for label, value, _before in report.kpis}
        assert figures["Revenue (net of tax, refunds and credit notes)"] == Decimal("30.00")
        assert figures["Tax"] == Decimal("6.00")
        assert figures["Collected less refunds"] == Decimal("96.00")
        assert report.tables["plans"].rows == [["Monthly", Decimal("30.00"), Decimal("6.00"), 1]]
        assert report.tables["methods"].rows == [["manual", Decimal("96.00"), 1]]
        # Members: the household's two memberships and the frozen one are in force.
        assert active_members_at(period, NEXT_DAY) == 3
        assert totals(period)["memberships_started"] == 2
        assert freezes_in_force(period, NEXT_DAY) == [(other_branch.name, 1)]


def test_mrr_counts_each_membership_of_a_household(gym, branch, chain):
    with tenant_scope(gym):
        period = selectors.period_for(start=date(2026, 3, 1), end=date(2026, 4, 30))
        from reports.selectors.money import mrr_series

        march, april = mrr_series(period)
    # End of March: the frozen member's 40 (January) + payer and child, new in March.
    assert march["mrr"] == Decimal("120.00")
    assert march["new"] == Decimal("80.00")
    assert april["mrr"] == Decimal("120.00")
    assert april["new"] == Decimal("0.00") and april["churned"] == Decimal("0.00")


def test_branch_filter_and_today_from_live_rows(gym, branch, other_branch):
    AccessLogFactory(branch=branch)
    with tenant_scope(gym):
        period = selectors.period_for(start=None, end=None, branch_ids=[branch.pk])
        # Nothing rolled up yet: today's check-in comes from the live table.
        assert totals(period)["checkins"] == 1
        only_south = selectors.period_for(start=None, end=None, branch_ids=[other_branch.pk])
        assert totals(only_south)["checkins"] == 0


def test_at_risk_list_gives_each_reason_and_takes_a_contact(client_for, manager, gym, branch):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from billing.models import Payment
    from reports.models import AtRiskContact

    now = timezone.now()
    long_ago = timezone.localdate() - timedelta(days=60)
    # given: a member who stopped coming, one whose card failed, one whose freeze ends soon
    quiet = MemberFactory(organisation=gym, home_branch=branch, last_name="Aquiet")
    MembershipFactory(member=quiet, start_date=long_ago)
    AccessLogFactory(branch=branch, member=quiet, occurred_at=now - timedelta(days=40))
    failing = MemberFactory(organisation=gym, home_branch=branch, last_name="Bfailing")
    MembershipFactory(member=failing, start_date=timezone.localdate())
    PaymentFactory(
        invoice=InvoiceFactory(branch=branch, payer=failing), status=Payment.Status.FAILED
    )
    thawing = MemberFactory(organisation=gym, home_branch=branch, last_name="Cthawing")
    frozen = MembershipFactory(
        member=thawing, start_date=timezone.localdate(), status=Membership.Status.FROZEN
    )
    MembershipFreezeFactory(
        membership=frozen,
        start_date=timezone.localdate() - timedelta(days=10),
        end_date=timezone.localdate() + timedelta(days=3),
        status="active",
    )
    regular = MemberFactory(organisation=gym, home_branch=branch, last_name="Dregular")
    MembershipFactory(member=regular, start_date=long_ago)
    AccessLogFactory(branch=branch, member=regular, occurred_at=now - timedelta(hours=1))
    rollups.rollup_fold(organisation_id=gym.pk)
    # when
    client = client_for(manager)
    url = reverse("admin:reports_page", kwargs={"area": "at-risk"})
    listed = {e["name"].split()[-1]: e["reasons"] for e in client.get(url).context["at_risk"]}
    # then
    assert listed["Aquiet"] == ["No visit in 14 days"]
    assert listed["Bfailing"] == ["Failed payment"]
    assert listed["Cthawing"][0].startswith("Freeze ends ")
    assert "Dregular" not in listed
    response = client.post(
        reverse("admin:reports_contact", kwargs={"member_id": quiet.pk}),
        {"outcome": "called", "note": "Back next week", "reason": listed["Aquiet"]},
    )
    assert response.status_code == 302
    with tenant_scope(gym):
        contact = AtRiskContact.objects.get()
    assert contact.note == "Back next week" and contact.contacted_by == manager
    again = {e["member_id"]: e for e in client.get(url).context["at_risk"]}
    assert again[quiet.pk]["contact"].outcome == "called"
