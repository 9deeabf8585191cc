"""The beat jobs: the daily membership job across gyms, reminders, abandoned purchases,
and the account-charges sweep."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.models import Invoice, PendingCharge
from billing.services import account_charges_bill_stale, member_charge_add
from billing.tasks import billing_account_charges_sweep, billing_collect_due
from gymsite.models import OutboxMessage
from memberships.models import Membership
from memberships.services import (
    membership_purchase,
    memberships_expire_due,
    memberships_send_reminders,
)
from memberships.tasks import memberships_daily
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_daily_job_runs_for_every_gym(gym, other_gym, branch, foreign_branch):
    yesterday = timezone.localdate() - timedelta(days=1)
    for organisation, where in ((gym, branch), (other_gym, foreign_branch)):
        MembershipFactory(
            member=MemberFactory(home_branch=where),
            plan=PlanFactory(organisation=organisation, fixed_term=True),
            end_date=yesterday,
        )
    result = memberships_daily()
    assert result["expiry"][gym.pk]["expired"] == 1
    assert result["expiry"][other_gym.pk]["expired"] == 1
    assert billing_collect_due() == {gym.pk: 0, other_gym.pk: 0}


def test_reminders_before_the_end_once(in_gym, member, gym):
    today = timezone.localdate()
    MembershipFactory(
        member=member,
        plan=PlanFactory(organisation=gym, fixed_term=True),
        end_date=today + timedelta(days=7),
    )
    assert memberships_send_reminders(today=today) == 1
    memberships_send_reminders(today=today)
    emails = OutboxMessage.objects.filter(dedupe_key__startswith="membership-")
    assert emails.count() == 1
    assert "ends in 7 days" in emails.get().payload["subject"]


def test_abandoned_purchase_is_cancelled_and_invoice_voided(in_gym, member, monthly, settings):
    settings.MEMBERSHIP_PENDING_DAYS = 14
    membership = membership_purchase(member=member, plan=monthly)
    later = timezone.localdate() + timedelta(days=15)
    assert memberships_expire_due(today=later)["abandoned"] == 1
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert Invoice.objects.get().status == Invoice.Status.VOID


def test_stale_account_charges_are_invoiced(in_gym, member, branch, gym):
    charge = member_charge_add(
        member=member,
        branch=branch,
        description="Shake",
        amount=Decimal("4.00"),
        source_type="inventory.order",
        source_id="5",
    )
    assert account_charges_bill_stale() == 0  # too recent
    PendingCharge.objects.filter(pk=charge.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert account_charges_bill_stale() == 1
    charge.refresh_from_db()
    assert charge.status == PendingCharge.Status.INVOICED


def test_sweep_task_enters_each_scope(gym, branch):
    member = MemberFactory(home_branch=branch)
    with tenant_scope(gym):
        charge = member_charge_add(
            member=member,
            branch=branch,
            description="Towel",
            amount=Decimal("2"),
            source_type="t",
            source_id="1",
        )
        PendingCharge.objects.filter(pk=charge.pk).update(
            created_at=timezone.now() - timedelta(days=30)
        )
    assert billing_account_charges_sweep() == {gym.pk: 1}
