"""Two workers running the renewal job at the same moment bill each membership once."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.models import Invoice, Payment
from billing.tests.factories import PaymentMethodFactory
from memberships.models import Membership
from memberships.services import memberships_renew_due
from memberships.tests.factories import MembershipFactory, PlanFactory

TODAY = date(2030, 2, 1)
WORKERS = 8
MEMBERSHIPS = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_renewal_jobs_bill_each_membership_once(gym, branch):
    # given: 25 memberships due, each with a working card
    plan = PlanFactory(organisation=gym, price=Decimal("40.00"))
    for _ in range(MEMBERSHIPS):
        member = MemberFactory(home_branch=branch)
        PaymentMethodFactory(member=member)
        MembershipFactory(
            member=member,
            plan=plan,
            start_date=date(2030, 1, 1),
            current_period_start=date(2030, 1, 1),
            current_period_end=date(2030, 1, 31),
        )
    barrier = threading.Barrier(WORKERS)
    errors, results = [], []

    def worker():
        try:
            with tenant_scope(gym):
                barrier.wait()
                results.append(memberships_renew_due(today=TODAY))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when: 8 renewal jobs start at the same instant
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: exactly one paid invoice and one payment per membership
    assert errors == []
    assert sum(r["billed"] for r in results) == MEMBERSHIPS
    with tenant_scope(gym):
        assert Invoice.objects.count() == MEMBERSHIPS
        assert Invoice.objects.filter(status="paid").count() == MEMBERSHIPS
        assert Payment.objects.count() == MEMBERSHIPS
        numbers = sorted(Invoice.objects.values_list("number", flat=True))
        assert numbers == list(range(1, MEMBERSHIPS + 1))
        assert set(Membership.objects.values_list("current_period_end", flat=True)) == {
            date(2030, 2, 28)
        }
    # and a later run finds nothing to do
    with tenant_scope(gym):
        assert memberships_renew_due(today=TODAY)["billed"] == 0
