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


@pytest.mark.django_db(transaction=True)
def test_job_running_while_another_worker_is_mid_renewal_skips_it(gym, branch):
    # given: one due membership
    from django.db import transaction

    from memberships.services import membership_renew

    plan = PlanFactory(organisation=gym, price=Decimal("40.00"))
    member = MemberFactory(home_branch=branch)
    membership = MembershipFactory(
        member=member,
        plan=plan,
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 1, 1),
        current_period_end=date(2030, 1, 31),
    )
    locked, other_done = threading.Event(), threading.Event()
    seen = {}

    def first_worker():
        try:
            with tenant_scope(gym), transaction.atomic():
                seen["first"] = membership_renew(membership=membership.pk, today=TODAY)
                locked.set()  # the invoice is written but not committed: the worst moment
                other_done.wait(timeout=30)
        finally:
            connection.close()

    def second_worker():
        try:
            locked.wait(timeout=30)
            with tenant_scope(gym):
                seen["second"] = memberships_renew_due(today=TODAY)
        finally:
            other_done.set()
            connection.close()

    threads = [threading.Thread(target=first_worker), threading.Thread(target=second_worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: the second job skipped the locked row; after the first commits, a third
    # run finds the open invoice and bills nothing either
    assert seen["first"] is not None
    assert seen["second"]["billed"] == 0
    with tenant_scope(gym):
        assert memberships_renew_due(today=TODAY)["billed"] == 0
        assert Invoice.objects.count() == 1
