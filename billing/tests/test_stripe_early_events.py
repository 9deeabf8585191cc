"""Refunds and disputes that arrive before their payment are kept, never dropped; and
the ledger is per gym and Stripe account, so one event id reaching two gyms is applied
by each."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from billing.models import Invoice, Payment
from billing.stripe.models import StripeEvent, StripePendingEvent
from billing.stripe.webhooks import PENDING_EVENT_WAIT, stripe_pending_events_resolve
from billing.tests.stripe_factories import (
    OTHER_WEBHOOK_SECRET,
    StripeAccountFactory,
    intent,
    make_event,
    post_event,
    stripe_id,
)
from memberships.models import Membership
from memberships.services import membership_open_invoices, membership_purchase
from memberships.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db
T0 = 1_900_000_000


def _pending_invoice(gym, member):
    """A member who bought a £40 + 20% tax monthly plan and has not paid yet."""
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        membership = membership_purchase(member=member, plan=plan)
        return membership, membership_open_invoices(membership).get()


@pytest.fixture
def pending(gym, member):
    StripeAccountFactory(organisation=gym, account_id="acct_gym_a")
    return _pending_invoice(gym, member)


def _post(client, event, **kwargs):
    response = post_event(client, event, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()["status"]


def _succeeded(invoice, pi_id, created=T0 + 10):
    return make_event(
        "payment_intent.succeeded",
        intent(invoice=invoice, status="succeeded", amount=4800, intent_id=pi_id),
        created=created,
    )


def _charge_refunded(pi_id, refunded: int):
    charge = {
        "id": stripe_id("ch"),
        "object": "charge",
        "payment_intent": pi_id,
        "amount": 4800,
        "amount_refunded": refunded,
        "currency": "gbp",
        "refunded": refunded == 4800,
        # what a charge carries that must never be kept
        "payment_method_details": {"card": {"brand": "visa", "last4": "4242"}},
        "metadata": {},
    }
    return make_event("charge.refunded", charge, created=T0 + 20)


def _dashboard_refund(pi_id, amount: int):
    refund = {
        "id": stripe_id("re"),
        "object": "refund",
        "amount": amount,
        "currency": "gbp",
        "payment_intent": pi_id,
        "status": "succeeded",
        "metadata": {},
    }
    return make_event("refund.created", refund, created=T0 + 19)


@pytest.mark.parametrize(("refunded", "amount"), [(4800, "48.00"), (1000, "10.00")])
def test_refund_before_its_payment_is_kept_then_raised_with_its_amount(
    client, gym, pending, refunded, amount
):
    # given: the member was refunded (in full, or in part) at Stripe, and Stripe
    # delivers the refund events before the payment's own success
    membership, invoice = pending
    pi_id = stripe_id("pi")
    early = [_dashboard_refund(pi_id, refunded), _charge_refunded(pi_id, refunded)]
    # when
    statuses = [_post(client, event) for event in early]
    # then: kept, not dropped as "not a Spotter payment"
    assert statuses == ["waiting", "waiting"]
    with tenant_scope(gym):
        kept = list(StripePendingEvent.objects.order_by("pk"))
    assert [p.status for p in kept] == [StripePendingEvent.Status.WAITING] * 2
    assert [p.amount for p in kept] == [Decimal(amount)] * 2
    assert all("payment_method_details" not in p.data for p in kept)

    # when: the payment's success arrives
    assert _post(client, _succeeded(invoice, pi_id)) == "processed"
    # then: the invoice is paid, and both refund events were applied as if in order:
    # a refund Spotter did not make is raised for staff, with Stripe's amounts
    with tenant_scope(gym):
        invoice.refresh_from_db()
        membership.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        assert invoice.amount_paid == Decimal("48.00")
        assert membership.status == Membership.Status.ACTIVE
        kept = list(StripePendingEvent.objects.order_by("pk"))
        ledger = {
            e.event_id: e for e in StripeEvent.objects.filter(event_id__in=[x["id"] for x in early])
        }
    assert [p.status for p in kept] == [StripePendingEvent.Status.ATTENTION] * 2
    for event in early:
        row = ledger[event["id"]]
        assert row.status == StripeEvent.Status.ATTENTION
        assert amount in row.outcome
    assert f"Stripe has refunded {amount}, Spotter knows of 0.00" in ledger[early[1]["id"]].outcome


def test_dispute_before_its_payment_is_raised_once_the_payment_is_recorded(client, gym, pending):
    _membership, invoice = pending
    pi_id = stripe_id("pi")
    dispute = {
        "id": stripe_id("dp"),
        "object": "dispute",
        "amount": 4800,
        "currency": "gbp",
        "payment_intent": pi_id,
        "charge": stripe_id("ch"),
        "reason": "fraudulent",
        "status": "needs_response",
        "metadata": {},
    }
    event = make_event("charge.dispute.created", dispute, created=T0 + 30)
    assert _post(client, event) == "waiting"
    assert _post(client, _succeeded(invoice, pi_id)) == "processed"
    with tenant_scope(gym):
        row = StripeEvent.objects.get(event_id=event["id"])
        payment = Payment.objects.get(reference=pi_id)
    assert row.status == StripeEvent.Status.ATTENTION
    assert "48.00 GBP" in row.outcome and f"payment {payment.pk}" in row.outcome


def test_refund_whose_payment_never_appears_is_raised_for_staff(client, gym, pending):
    # given: a refund of a payment Spotter has no record of
    pi_id = stripe_id("pi")
    event = _charge_refunded(pi_id, 4800)
    assert _post(client, event) == "waiting"
    # when: the periodic check runs before the deadline, then after it
    early = stripe_pending_events_resolve(organisation_id=gym.pk)
    late = stripe_pending_events_resolve(
        organisation_id=gym.pk, now=timezone.now() + PENDING_EVENT_WAIT + timedelta(minutes=1)
    )
    # then: it waited, then was raised in "needs attention" with its amount
    assert early == {"applied": 0, "flagged": 0}
    assert late == {"applied": 0, "flagged": 1}
    with tenant_scope(gym):
        row = StripeEvent.objects.get(event_id=event["id"])
        kept = StripePendingEvent.objects.get()
    assert row.status == StripeEvent.Status.ATTENTION
    assert "48.00 GBP" in row.outcome and pi_id in row.outcome
    assert kept.status == StripePendingEvent.Status.ATTENTION
    # and running again raises nothing twice
    assert stripe_pending_events_resolve(
        organisation_id=gym.pk, now=timezone.now() + 2 * PENDING_EVENT_WAIT
    ) == {"applied": 0, "flagged": 0}


def test_refund_waiting_for_a_payment_recorded_without_its_webhook(client, gym, pending):
    # given: the refund came first; the payment was then recorded another way (the
    # off-session charge's own answer), and its success webhook has not come yet
    _membership, invoice = pending
    pi_id = stripe_id("pi")
    event = _charge_refunded(pi_id, 1000)
    assert _post(client, event) == "waiting"
    from billing.services import payment_record

    with tenant_scope(gym):
        payment_record(invoice=invoice, amount=Decimal("48.00"), provider="stripe", reference=pi_id)
    # when: the periodic check runs
    assert stripe_pending_events_resolve(organisation_id=gym.pk) == {"applied": 1, "flagged": 0}
    # then
    with tenant_scope(gym):
        row = StripeEvent.objects.get(event_id=event["id"])
    assert row.status == StripeEvent.Status.ATTENTION
    assert "Stripe has refunded 10.00, Spotter knows of 0.00" in row.outcome


def test_the_same_event_id_reaching_two_gyms_is_applied_by_each(
    client, gym, other_gym, member, outsider, pending
):
    # given: two gyms, each with its own Stripe account and an unpaid invoice
    StripeAccountFactory(
        organisation=other_gym, account_id="acct_gym_b", webhook_secret=OTHER_WEBHOOK_SECRET
    )
    _membership_a, invoice_a = pending
    membership_b, invoice_b = _pending_invoice(other_gym, outsider)
    # when: an event with one id reaches both gyms' endpoints
    event_id = stripe_id("evt")
    to_a = _succeeded(invoice_a, stripe_id("pi"))
    to_b = _succeeded(invoice_b, stripe_id("pi"))
    to_a["id"] = to_b["id"] = event_id
    assert _post(client, to_a) == "processed"
    assert _post(client, to_b, secret=OTHER_WEBHOOK_SECRET, host="gym-b.test") == "processed"
    # then: each gym applied it; each ledger holds it once, under its own account
    with tenant_scope(gym):
        invoice_a.refresh_from_db()
        assert invoice_a.status == Invoice.Status.PAID
        assert list(StripeEvent.objects.filter(event_id=event_id).values_list("account")) == [
            ("acct_gym_a",)
        ]
    with tenant_scope(other_gym):
        invoice_b.refresh_from_db()
        membership_b.refresh_from_db()
        assert invoice_b.status == Invoice.Status.PAID
        assert membership_b.status == Membership.Status.ACTIVE
        assert list(StripeEvent.objects.filter(event_id=event_id).values_list("account")) == [
            ("acct_gym_b",)
        ]
    # and a redelivery to either gym is still a duplicate
    assert _post(client, to_a) == "duplicate"
    assert _post(client, to_b, secret=OTHER_WEBHOOK_SECRET, host="gym-b.test") == "duplicate"
