"""Reconciliation: Stripe's recent objects against our records."""

from decimal import Decimal

import pytest

import billing.stripe.client as stripe_client
from accounts.tenancy import tenant_scope
from billing.models import Invoice, Payment, Refund
from billing.services import refund_create
from billing.stripe.reconciliation import stripe_reconcile
from billing.stripe.tasks import stripe_reconcile_all
from billing.tests.stripe_factories import (
    FakeStripeHTTP,
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


def _listing(objects):
    return lambda params, headers: (
        200,
        {"object": "list", "data": objects, "has_more": False, "url": "/v1/x"},
    )


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripeHTTP()
    fake.routes[("GET", "/v1/payment_intents")] = _listing([])
    fake.routes[("GET", "/v1/refunds")] = _listing([])
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    return fake


@pytest.fixture
def pending(gym, member):
    StripeAccountFactory(organisation=gym)
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        membership = membership_purchase(member=member, plan=plan)
        return membership, membership_open_invoices(membership).get()


def test_a_missed_payment_webhook_is_fixed(gym, pending, fake_stripe, client):
    # given: Stripe took the money but its webhook never arrived
    membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    fake_stripe.routes[("GET", "/v1/payment_intents")] = _listing([pi])
    # when
    run = stripe_reconcile(organisation_id=gym.pk)
    # then: recorded and activated, and reported
    assert (run.checked, run.fixed) == (1, 1)
    assert run.drift[0]["problem"] == "succeeded at Stripe, not recorded"
    with tenant_scope(gym):
        invoice.refresh_from_db()
        membership.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert membership.status == Membership.Status.ACTIVE
    # and the late webhook, and a second run, change nothing
    assert post_event(client, make_event("payment_intent.succeeded", pi)).status_code == 200
    again = stripe_reconcile(organisation_id=gym.pk)
    assert (again.checked, again.fixed, again.drift) == (1, 0, [])
    with tenant_scope(gym):
        assert Payment.objects.count() == 1
    # the listing asked only for recent objects
    assert "created[gte]" in fake_stripe.calls("GET", "/v1/payment_intents")[0]


def test_a_missed_refund_webhook_is_fixed_and_dashboard_refunds_reported(
    gym, pending, fake_stripe, client
):
    _membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    post_event(client, make_event("payment_intent.succeeded", pi))
    with tenant_scope(gym):
        payment = Payment.objects.get()
        refund = refund_create(payment=payment, amount=Decimal("8.00"), reason="Goodwill")
    ours = {
        "id": stripe_id("re"),
        "object": "refund",
        "amount": 800,
        "currency": "gbp",
        "payment_intent": pi["id"],
        "status": "succeeded",
        "metadata": {
            "spotter_organisation_id": str(gym.pk),
            "spotter_refund_key": f"refund-{refund.pk}",
        },
    }
    dashboard = {**ours, "id": stripe_id("re"), "amount": 500, "metadata": {}}
    fake_stripe.routes[("GET", "/v1/payment_intents")] = _listing([pi])
    fake_stripe.routes[("GET", "/v1/refunds")] = _listing([ours, dashboard])
    # when
    run = stripe_reconcile(organisation_id=gym.pk)
    # then
    problems = {d["problem"]: d["fixed"] for d in run.drift}
    assert problems == {
        "refund succeeded at Stripe, processing here": True,
        "refund made outside Spotter": False,
    }
    with tenant_scope(gym):
        refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED


def test_paid_here_but_not_at_stripe_is_reported_not_changed(gym, pending, fake_stripe, client):
    _membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    post_event(client, make_event("payment_intent.succeeded", pi))
    fake_stripe.routes[("GET", "/v1/payment_intents")] = _listing(
        [{**pi, "status": "requires_payment_method"}]
    )
    run = stripe_reconcile(organisation_id=gym.pk)
    assert run.drift == [
        {
            "object": pi["id"],
            "problem": "recorded as paid, Stripe says requires_payment_method",
            "fixed": False,
        }
    ]
    with tenant_scope(gym):
        invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_job_skips_gyms_without_stripe_and_survives_stripe_down(gym, other_gym, monkeypatch):
    StripeAccountFactory(organisation=gym)
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", FakeStripeHTTP())  # all 404
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    results = stripe_reconcile_all()
    assert set(results) == {gym.pk}
    with tenant_scope(gym):
        from billing.stripe.models import StripeReconciliation

        assert StripeReconciliation.objects.get().error.startswith("Stripe:")
