"""The daily renewal job and dunning."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, Payment
from billing.services import invoices_collect_due, payment_record
from gymsite.models import OutboxMessage
from memberships.models import Membership
from memberships.services import memberships_renew_due
from memberships.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
TODAY = date(2030, 2, 1)


@pytest.fixture
def due(in_gym, member, monthly):
    return MembershipFactory(
        member=member,
        plan=monthly,
        price=Decimal("40.00"),
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 1, 1),
        current_period_end=date(2030, 1, 31),
    )


def _membership_invoices(membership):
    return Invoice.objects.filter(
        lines__source_type="memberships.membership", lines__source_id=str(membership.pk)
    ).distinct()


def test_renewal_charges_saved_card_and_advances_period(due, card):
    # when
    result = memberships_renew_due(today=TODAY)
    # then: one invoice for February, paid with the card, period advanced
    assert result == {"due": 1, "billed": 1, "charged": 1}
    invoice = _membership_invoices(due).get()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.total == Decimal("48.00")
    line = invoice.lines.get()
    assert (line.period_start, line.period_end) == (date(2030, 2, 1), date(2030, 2, 28))
    payment = invoice.payments.get()
    assert (payment.provider, payment.status) == ("sandbox", Payment.Status.SUCCEEDED)
    assert payment.reference.startswith("ch_")
    due.refresh_from_db()
    assert (due.current_period_start, due.current_period_end) == (
        date(2030, 2, 1),
        date(2030, 2, 28),
    )
    assert due.status == Membership.Status.ACTIVE


def test_running_the_job_twice_bills_once(due, card):
    memberships_renew_due(today=TODAY)
    second = memberships_renew_due(today=TODAY)
    assert second["billed"] == 0
    assert _membership_invoices(due).count() == 1
    assert Payment.objects.count() == 1


def test_not_due_before_the_period_ends(due, card):
    assert memberships_renew_due(today=date(2030, 1, 31))["due"] == 0


def test_account_charges_ride_on_the_renewal(due, card, branch):
    from billing.services import member_charge_add

    member_charge_add(
        member=due.member,
        branch=branch,
        description="No-show fee",
        amount=Decimal("5"),
        source_type="bookings.booking",
        source_id="77",
    )
    memberships_renew_due(today=TODAY)
    invoice = _membership_invoices(due).get()
    assert invoice.subtotal == Decimal("45.00")


def test_decline_goes_past_due_then_dunning_then_suspended(due, declining_card, settings):
    # when: the renewal charge is declined
    memberships_renew_due(today=TODAY)
    # then: past due, the decline code kept, a retry in 1 day, the member emailed
    due.refresh_from_db()
    assert due.status == Membership.Status.PAST_DUE
    invoice = _membership_invoices(due).get()
    assert invoice.status == Invoice.Status.OPEN
    failed = Payment.objects.get()
    assert (failed.status, failed.failure_code) == (Payment.Status.FAILED, "insufficient_funds")
    assert invoice.collection_attempts == 1
    first_retry = invoice.next_collection_at
    assert first_retry.date() - timezone.localdate() == timedelta(days=1)
    assert OutboxMessage.objects.filter(dedupe_key=f"payment-failed-{failed.pk}").exists()
    # and: no new period is billed while this invoice is unpaid
    assert memberships_renew_due(today=TODAY + timedelta(days=40))["due"] == 0
    # when: the retries (+1, +3, +7 days) all fail
    gaps = []
    for _ in range(3):
        invoice.refresh_from_db()
        now = invoice.next_collection_at
        assert invoices_collect_due(now=now) == 1
        invoice.refresh_from_db()
        if invoice.next_collection_at:
            gaps.append((invoice.next_collection_at - now).days)
    # then: suspended after the last one, every attempt recorded and emailed
    assert gaps == [3, 7]
    invoice.refresh_from_db()
    assert invoice.collection_attempts == 4 and invoice.next_collection_at is None
    due.refresh_from_db()
    assert due.status == Membership.Status.SUSPENDED
    assert Payment.objects.filter(status=Payment.Status.FAILED).count() == 4
    assert OutboxMessage.objects.filter(dedupe_key__startswith="payment-failed-").count() == 4
    assert list(due.status_changes.values_list("to_status", flat=True)) == [
        "past_due",
        "suspended",
    ]
    # when: the member pays at the desk
    payment_record(invoice=invoice, amount=invoice.amount_due)
    # then: active again, with the period advanced
    due.refresh_from_db()
    assert due.status == Membership.Status.ACTIVE
    assert due.current_period_end == date(2030, 2, 28)


def test_retry_succeeds_after_card_update(due, declining_card):
    memberships_renew_due(today=TODAY)
    declining_card.is_active = False
    declining_card.save()
    from billing.tests.factories import PaymentMethodFactory

    PaymentMethodFactory(member=due.member, method_reference="pm_card_new")
    invoice = _membership_invoices(due).get()
    invoices_collect_due(now=invoice.next_collection_at)
    due.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert due.status == Membership.Status.ACTIVE


def test_member_without_saved_method_goes_past_due(due):
    memberships_renew_due(today=TODAY)
    due.refresh_from_db()
    assert due.status == Membership.Status.PAST_DUE
    assert Payment.objects.get().failure_code == "no_payment_method"


@pytest.mark.parametrize(
    "change",
    [
        {"auto_renew": False},
        {"status": "frozen"},
        {"status": "past_due"},
        {"cancels_on": date(2030, 1, 31)},
    ],
)
def test_memberships_that_do_not_renew(due, card, change):
    Membership.objects.filter(pk=due.pk).update(**change)
    assert memberships_renew_due(today=TODAY)["billed"] == 0
    assert not Invoice.objects.exists()
