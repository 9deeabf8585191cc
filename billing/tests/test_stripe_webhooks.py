"""The Stripe webhook endpoint: signatures, the event ledger, duplicates, isolation."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from accounts.tenancy import tenant_scope
from billing.models import Invoice, Payment
from billing.stripe.models import StripeEvent
from billing.tests.stripe_factories import (
    OTHER_WEBHOOK_SECRET,
    StripeAccountFactory,
    intent,
    make_event,
    post_event,
    sign,
)
from gymsite.models import OutboxMessage
from memberships.models import Membership, MembershipStatusChange
from memberships.services import membership_open_invoices, membership_purchase
from memberships.tests.factories import PlanFactory


@pytest.fixture
def stripe_gym(gym):
    return StripeAccountFactory(organisation=gym)


@pytest.fixture
def pending(gym, member, stripe_gym):
    """A member who bought a £40 + 20% tax monthly plan and has not paid yet."""
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        membership = membership_purchase(member=member, plan=plan)
        invoice = membership_open_invoices(membership).get()
    return membership, invoice


def _state(gym, membership, invoice):
    with tenant_scope(gym):
        membership.refresh_from_db()
        invoice.refresh_from_db()
        payments = list(invoice.payments.values_list("status", "amount", "reference"))
    return membership.status, invoice.status, payments


@pytest.mark.django_db
def test_payment_succeeded_records_the_payment_and_activates(client, gym, pending):
    # given
    membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    # when
    response = post_event(client, make_event("payment_intent.succeeded", pi))
    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processed"
    assert _state(gym, membership, invoice) == (
        Membership.Status.ACTIVE,
        Invoice.Status.PAID,
        [(Payment.Status.SUCCEEDED, Decimal("48.00"), pi["id"])],
    )
    with tenant_scope(gym):
        assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED
        # receipts and the activation email leave through the outbox
        assert OutboxMessage.objects.filter(kind="email").count() >= 2


@pytest.mark.django_db
def test_a_repeated_event_is_acknowledged_and_ignored(client, gym, pending):
    _membership, invoice = pending
    event = make_event(
        "payment_intent.succeeded", intent(invoice=invoice, status="succeeded", amount=4800)
    )
    # when: Stripe delivers the same event three times
    responses = [post_event(client, event) for _ in range(3)]
    # then
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in responses] == [False, True, True]
    with tenant_scope(gym):
        assert Payment.objects.count() == 1
        assert StripeEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_same_event_fifty_times_concurrently_pays_and_activates_once(gym, pending):
    # given
    membership, invoice = pending
    event = make_event(
        "payment_intent.succeeded", intent(invoice=invoice, status="succeeded", amount=4800)
    )
    payload = json.dumps(event)

    def deliver(_):
        try:
            return Client().post(
                "/api/v1/payments/webhook/stripe",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload),
                HTTP_HOST="gym-a.test",
            )
        finally:
            connection.close()

    # when: 50 deliveries at once, at most 25 connections
    with ThreadPoolExecutor(max_workers=25) as pool:
        responses = list(pool.map(deliver, range(50)))
    # then: one payment, one activation, everything acknowledged
    assert {r.status_code for r in responses} == {200}
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    with tenant_scope(gym):
        assert Payment.objects.count() == 1
        assert StripeEvent.objects.count() == 1
        assert (
            MembershipStatusChange.objects.filter(
                membership=membership, to_status=Membership.Status.ACTIVE
            ).count()
            == 1
        )
    assert _state(gym, membership, invoice)[:2] == (Membership.Status.ACTIVE, Invoice.Status.PAID)


def _bad_requests(invoice):
    good = make_event(
        "payment_intent.succeeded", intent(invoice=invoice, status="succeeded", amount=4800)
    )
    payload = json.dumps(good)
    now = int(time.time())
    return {
        "unsigned": (payload, None),
        "wrong secret": (payload, sign(payload, "whsec_somebody_else")),
        "tampered body": (payload.replace("4800", "1"), sign(payload)),
        "garbage header": (payload, "nonsense"),
        "replayed old timestamp": (payload, sign(payload, timestamp=now - 3600)),
        "malformed json": ("{not json", sign("{not json")),
        "not an event": ('["a list"]', sign('["a list"]')),
        "event without object": (
            json.dumps({**good, "data": {}}),
            sign(json.dumps({**good, "data": {}})),
        ),
        "live event on test keys": (
            json.dumps({**good, "livemode": True}),
            sign(json.dumps({**good, "livemode": True})),
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "wrong secret",
        "tampered body",
        "garbage header",
        "replayed old timestamp",
        "malformed json",
        "not an event",
        "event without object",
        "live event on test keys",
    ],
)
def test_bad_requests_get_400_and_change_nothing(client, gym, pending, case):
    # given
    membership, invoice = pending
    payload, signature = _bad_requests(invoice)[case]
    headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    # when
    response = client.post(
        "/api/v1/payments/webhook/stripe",
        data=payload,
        content_type="application/json",
        HTTP_HOST="gym-a.test",
        **headers,
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_webhook"
    assert _state(gym, membership, invoice) == (Membership.Status.PENDING, Invoice.Status.OPEN, [])
    with tenant_scope(gym):
        assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_gym_without_stripe_rejects_webhooks(client, gym, member):
    response = post_event(client, make_event("payment_intent.created", {"id": "pi_1"}))
    assert response.status_code == 400
    with tenant_scope(gym):
        assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_unknown_event_types_are_acknowledged_and_change_nothing(client, gym, pending):
    membership, invoice = pending
    event = make_event("customer.subscription.updated", {"id": "sub_1", "object": "subscription"})
    response = post_event(client, event)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert _state(gym, membership, invoice) == (Membership.Status.PENDING, Invoice.Status.OPEN, [])


@pytest.mark.django_db
def test_event_signed_by_another_gym_is_rejected(client, gym, other_gym, pending):
    # given: gym B has its own Stripe account and webhook secret
    StripeAccountFactory(organisation=other_gym, webhook_secret=OTHER_WEBHOOK_SECRET)
    membership, invoice = pending
    event = make_event(
        "payment_intent.succeeded", intent(invoice=invoice, status="succeeded", amount=4800)
    )
    # when: B's genuine event is posted to gym A's endpoint
    response = post_event(client, event, secret=OTHER_WEBHOOK_SECRET)
    # then
    assert response.status_code == 400
    assert _state(gym, membership, invoice) == (Membership.Status.PENDING, Invoice.Status.OPEN, [])


@pytest.mark.django_db
def test_event_about_another_gyms_invoice_is_ignored(client, gym, other_gym, outsider, pending):
    # given: gym B's open invoice, and an event (signed by gym A) naming it
    from billing.tests.factories import InvoiceFactory

    foreign_invoice = InvoiceFactory(branch=outsider.home_branch, payer=outsider)
    for metadata in (
        {},  # A's organisation id, B's invoice id: not found in A's scope
        {"spotter_organisation_id": str(other_gym.pk)},
    ):
        pi = intent(invoice=foreign_invoice, status="succeeded", amount=1200, metadata=metadata)
        pi["metadata"].setdefault("spotter_organisation_id", str(gym.pk))
        if not metadata:
            pi["metadata"]["spotter_organisation_id"] = str(gym.pk)
        # when
        response = post_event(client, make_event("payment_intent.succeeded", pi))
        # then
        assert response.status_code == 200
        assert response.json()["status"] == "ignored"
    with tenant_scope(other_gym):
        foreign_invoice.refresh_from_db()
        assert foreign_invoice.status == Invoice.Status.OPEN
        assert not Payment.objects.exists()


@pytest.mark.django_db
def test_webhook_url_with_gym_slug(client, gym, pending):
    membership, invoice = pending
    event = make_event(
        "payment_intent.succeeded", intent(invoice=invoice, status="succeeded", amount=4800)
    )
    payload = json.dumps(event)
    response = client.post(
        f"/api/v1/payments/webhook/stripe/{gym.slug}",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
        HTTP_HOST="unknown-host.test",
    )
    assert response.status_code == 200
    assert _state(gym, membership, invoice)[1] == Invoice.Status.PAID


@pytest.mark.django_db
def test_paid_at_the_desk_meanwhile_is_flagged_not_recorded_twice(client, gym, pending, front_desk):
    # given: the member paid at the desk while their card payment was in flight
    from billing.services import payment_record

    _membership, invoice = pending
    with tenant_scope(gym):
        payment_record(invoice=invoice, amount=Decimal("48.00"), actor=front_desk)
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    # when
    response = post_event(client, make_event("payment_intent.succeeded", pi))
    # then: acknowledged, flagged for a refund decision, nothing recorded twice
    assert response.status_code == 200
    assert response.json()["status"] == "attention"
    with tenant_scope(gym):
        assert Payment.objects.count() == 1
        assert "invoice_already_paid" in StripeEvent.objects.get().outcome


@pytest.mark.django_db
def test_currency_mismatch_is_flagged(client, gym, pending):
    membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    pi["currency"] = "usd"
    response = post_event(client, make_event("payment_intent.succeeded", pi))
    assert response.json()["status"] == "attention"
    assert _state(gym, membership, invoice) == (Membership.Status.PENDING, Invoice.Status.OPEN, [])


@pytest.mark.django_db
def test_card_removed_at_stripe_is_no_longer_charged(client, gym, member, stripe_gym):
    from billing.models import PaymentMethod
    from billing.tests.factories import PaymentMethodFactory

    card = PaymentMethodFactory(member=member, provider="stripe", method_reference="pm_gone")
    event = make_event(
        "payment_method.detached", {"id": "pm_gone", "object": "payment_method", "customer": None}
    )
    assert post_event(client, event).json()["status"] == "processed"
    with tenant_scope(gym):
        card = PaymentMethod.objects.get(pk=card.pk)
    assert not card.is_active


@pytest.mark.django_db(transaction=True)
def test_intent_and_its_checkout_session_at_once_record_one_payment(gym, pending):
    # given: two different events about the same payment, each delivered 10 times
    membership, invoice = pending
    pi = intent(invoice=invoice, status="succeeded", amount=4800)
    session = {
        "id": "cs_race",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": pi["id"],
        "amount_total": 4800,
        "currency": "gbp",
        "metadata": pi["metadata"],
    }
    payloads = [
        json.dumps(make_event("payment_intent.succeeded", pi)),
        json.dumps(make_event("checkout.session.completed", session)),
    ]

    def deliver(i):
        payload = payloads[i % 2]
        try:
            return Client().post(
                "/api/v1/payments/webhook/stripe",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(payload),
                HTTP_HOST="gym-a.test",
            )
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(deliver, range(20)))
    # then
    assert {r.status_code for r in responses} == {200}
    with tenant_scope(gym):
        assert Payment.objects.count() == 1
        assert StripeEvent.objects.count() == 2
    assert _state(gym, membership, invoice)[:2] == (Membership.Status.ACTIVE, Invoice.Status.PAID)
