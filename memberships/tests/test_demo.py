import random

import pytest

from accounts import demo as accounts_demo
from accounts.models import Organisation
from accounts.tenancy import tenant_scope
from billing import demo as billing_demo
from billing.models import CreditNote, Invoice, Payment, PendingCharge, Refund
from memberships import demo as memberships_demo
from memberships.models import Membership, MembershipFreeze, Plan, PlanChange


@pytest.mark.django_db
def test_demo_seed_covers_every_kind_and_status_and_is_idempotent(settings):
    settings.BILLING_SANDBOX_ENABLED = True
    organisation = Organisation.objects.create(name="Demo", slug="demo", currency="GBP")
    with tenant_scope(organisation):
        for module in (accounts_demo, memberships_demo, billing_demo):
            module.seed(organisation=organisation, rng=random.Random(1))
        counts = (Plan.objects.count(), Membership.objects.count(), Invoice.objects.count())
        assert set(Plan.objects.values_list("kind", flat=True)) == set(Plan.Kind.values)
        assert Plan.objects.filter(status=Plan.Status.RETIRED).exists()
        assert set(Membership.objects.values_list("status", flat=True)) == set(
            Membership.Status.values
        )
        assert Invoice.objects.filter(status=Invoice.Status.PAID).count() > 300
        assert Invoice.objects.filter(status=Invoice.Status.OPEN).exists()
        assert Invoice.objects.filter(status=Invoice.Status.VOID).exists()
        numbers = list(Invoice.objects.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert Payment.objects.filter(status=Payment.Status.FAILED).exists()
        assert Refund.objects.exists() and CreditNote.objects.exists()
        assert PendingCharge.objects.exists()
        assert MembershipFreeze.objects.exists()
        assert PlanChange.objects.exists()
        assert Membership.objects.filter(cancels_on__isnull=False, status="active").exists()
        # the demo login has a live membership with invoice history
        jamie = Membership.objects.get(member__email="member@demo.spotter")
        assert jamie.status == "active"
        assert Invoice.objects.filter(payer=jamie.member).count() >= 5
        # running again adds nothing
        for module in (accounts_demo, memberships_demo, billing_demo):
            module.seed(organisation=organisation, rng=random.Random(1))
        assert counts == (Plan.objects.count(), Membership.objects.count(), Invoice.objects.count())
