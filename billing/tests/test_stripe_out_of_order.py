"""Events arriving late, early or repeatedly end in the state Stripe last reported."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

import billing.stripe.client as stripe_client
from accounts.tenancy import tenant_scope
from billing.models import Invoice, Payment, Refund
from billing.services import refund_create
from billing.stripe.models import StripeEvent
from billing.tests.factories import PaymentMethodFactory
from billing.tests.stripe_factories import (
    FakeStripeHTTP,
    StripeAccountFactory,
    intent,
    make_event,
    post_event,
    refund_object,
    stripe_id,
)
from memberships.models import Membership
from memberships.services import (
    membership_open_invoices,
    membership_purchase,
    memberships_renew_due,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
T0 = 1_900_000_000  # event creation times (seconds), in the order Stripe made them


@pytest.fixture
def stripe_gym(gym):
    return StripeAccountFactory(organisation=gym)


@pytest.fixture
def pending(gym, member, stripe_gym):
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        membership = membership_purchase(member=member, plan=plan)
        return membership, membership_open_invoices(membership).get()


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    return fake


def _post_all(client, events):
    statuses = []
    for event in events:
        response = post_event(client, event)
        assert response.status_code == 200, response.content
        statuses.append(response.json()["status"])
    return statuses


def test_success_before_created_and_a_late_failure(client, gym, pending):
    # given: the intent was created, failed once, then succeeded with another card
    membership, invoice = pending
    pi_id = stripe_id("pi")
    created = make_event(
        "payment_intent.created",
        intent(invoice=invoice, status="requires_payment_method", amount=4800, intent_id=pi_id),
        created=T0,
    )
    failed = make_event(
        "payment_intent.payment_failed",
        intent(
            invoice=invoice,
            status="requires_payment_method",
            amount=4800,
            intent_id=pi_id,
            decline_code="insufficient_funds",
        ),
        created=T0 + 10,
    )
    succeeded = make_event(
        "payment_intent.succeeded",
        intent(invoice=invoice, status="succeeded", amount=4800, intent_id=pi_id),
        created=T0 + 20,
    )
    # when: they arrive newest first
    statuses = _post_all(client, [succeeded, failed, created])
    # then: paid and active; the older events are recognised as old
    assert statuses == ["processed", "stale", "stale"]
    with tenant_scope(gym):
        invoice.refresh_from_db()
        membership.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
        assert membership.status == Membership.Status.ACTIVE
        assert list(Payment.objects.values_list("status", "reference")) == [
            (Payment.Status.SUCCEEDED, pi_id)
        ]


def test_failure_then_success_in_order_pays(client, gym, pending):
    _membership, invoice = pending
    pi_id = stripe_id("pi")
    failed = make_event(
        "payment_intent.payment_failed",
        intent(
            invoice=invoice,
            status="requires_payment_method",
            amount=4800,
            intent_id=pi_id,
            decline_code="card_declined",
        ),
        created=T0 + 10,
    )
    succeeded = make_event(
        "payment_intent.succeeded",
        intent(invoice=invoice, status="succeeded", amount=4800, intent_id=pi_id),
        created=T0 + 20,
    )
    assert _post_all(client, [failed, succeeded]) == ["processed", "processed"]
    with tenant_scope(gym):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID


def test_checkout_completed_and_intent_succeeded_record_one_payment(client, gym, pending):
    _membership, invoice = pending
    pi_id = stripe_id("pi")
    session = {
        "id": stripe_id("cs"),
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": pi_id,
        "amount_total": 4800,
        "currency": "gbp",
        "metadata": {
            "spotter_organisation_id": str(gym.pk),
            "spotter_invoice_id": str(invoice.pk),
        },
    }
    _post_all(
        client,
        [
            make_event("checkout.session.completed", session, created=T0 + 5),
            make_event(
                "payment_intent.succeeded",
                intent(invoice=invoice, status="succeeded", amount=4800, intent_id=pi_id),
                created=T0 + 4,
            ),
        ],
    )
    with tenant_scope(gym):
        assert Payment.objects.filter(status=Payment.Status.SUCCEEDED).count() == 1
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID


@pytest.fixture
def paid_by_stripe(client, gym, pending):
    _membership, invoice = pending
    pi_id = stripe_id("pi")
    _post_all(
        client,
        [
            make_event(
                "payment_intent.succeeded",
                intent(invoice=invoice, status="succeeded", amount=4800, intent_id=pi_id),
                created=T0,
            )
        ],
    )
    with tenant_scope(gym):
        return Payment.objects.get(reference=pi_id)


def test_refund_events_out_of_order_and_replayed(client, gym, paid_by_stripe, owner, fake_stripe):
    # given: staff refund 10.00 of the payment; Stripe accepts it (pending its webhook)
    payment = paid_by_stripe
    refund_id = stripe_id("re")
    fake_stripe.routes[("POST", "/v1/refunds")] = lambda params, headers: (
        200,
        {"id": refund_id, "object": "refund", "status": "pending", "amount": 1000},
    )
    with tenant_scope(gym):
        refund = refund_create(payment=payment, amount=Decimal("10.00"), reason="Goodwill")
    # (delivered through the outbox after commit)
    from gymsite.outbox import outbox_relay

    with tenant_scope(gym):
        outbox_relay()
    [sent] = fake_stripe.calls("POST", "/v1/refunds")
    assert sent["payment_intent"] == payment.reference
    assert sent["amount"] == "1000"
    assert sent["metadata[spotter_refund_key]"] == f"refund-{refund.pk}"
    with tenant_scope(gym):
        refund.refresh_from_db()
        assert refund.status == Refund.Status.PENDING

    def refund_event(type_, status, at):
        obj = refund_object(
            refund=refund,
            intent_id=payment.reference,
            status=status,
            amount=1000,
            refund_id=refund_id,
        )
        return make_event(type_, obj, created=at)

    charge = {
        "id": stripe_id("ch"),
        "object": "charge",
        "payment_intent": payment.reference,
        "amount": 4800,
        "amount_refunded": 1000,
        "currency": "gbp",
        "refunded": False,
    }
    charge_refunded = make_event("charge.refunded", charge, created=T0 + 101)
    # when: the success arrives first, then the older "created (pending)" and a stale
    # failure, and charge.refunded is delivered ten times (and re-sent ten times)
    statuses = _post_all(
        client,
        [
            refund_event("refund.updated", "succeeded", T0 + 100),
            refund_event("refund.created", "pending", T0 + 90),
            refund_event("refund.updated", "pending", T0 + 95),
        ]
        + [charge_refunded] * 10
        + [make_event("charge.refunded", charge, created=T0 + 101) for _ in range(10)],
    )
    # then
    assert statuses[:3] == ["processed", "stale", "stale"]
    assert statuses[3:13] == ["processed"] + ["duplicate"] * 9
    assert set(statuses[13:]) == {"processed"}
    with tenant_scope(gym):
        refund.refresh_from_db()
        payment.refresh_from_db()
        invoice = payment.invoice
        invoice.refresh_from_db()
        assert refund.status == Refund.Status.SUCCEEDED
        assert refund.reference == refund_id
        assert payment.amount_refunded == Decimal("10.00")
        assert invoice.amount_refunded == Decimal("10.00")


def test_refund_failure_after_success_is_ignored_and_failure_alone_gives_back(
    client, gym, paid_by_stripe
):
    payment = paid_by_stripe
    with tenant_scope(gym):
        refund = refund_create(payment=payment, amount=Decimal("5.00"), reason="Oops")

    def event(status, at, type_="refund.updated"):
        obj = refund_object(
            refund=refund, intent_id=payment.reference, status=status, amount=500, refund_id="re_1"
        )
        return make_event(type_, obj, created=at)

    # when: the refund failed at Stripe
    assert _post_all(client, [event("failed", T0 + 50, "refund.failed")]) == ["processed"]
    # then: the amount can be refunded again
    with tenant_scope(gym):
        refund.refresh_from_db()
        payment.refresh_from_db()
        assert refund.status == Refund.Status.FAILED
        assert payment.amount_refunded == Decimal("0.00")
    # and an older pending/success event arriving afterwards changes nothing
    assert _post_all(client, [event("pending", T0 + 10)]) == ["stale"]


def test_refund_made_in_the_dashboard_is_flagged(client, gym, paid_by_stripe):
    payment = paid_by_stripe
    obj = {
        "id": "re_dash",
        "object": "refund",
        "amount": 4800,
        "currency": "gbp",
        "payment_intent": payment.reference,
        "status": "succeeded",
        "metadata": {},
    }
    assert _post_all(client, [make_event("refund.created", obj)]) == ["attention"]
    with tenant_scope(gym):
        assert StripeEvent.objects.filter(status=StripeEvent.Status.ATTENTION).exists()
        payment.refresh_from_db()
        assert payment.amount_refunded == Decimal("0.00")


# --- renewals: an off-session charge whose answer comes by webhook --------------------

TODAY = date(2030, 2, 1)


@pytest.fixture
def due(gym, member, stripe_gym):
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    membership = MembershipFactory(
        member=member,
        plan=plan,
        price=Decimal("40.00"),
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 1, 1),
        current_period_end=date(2030, 1, 31),
    )
    PaymentMethodFactory(
        member=member, provider="stripe", customer_reference="cus_a", method_reference="pm_a"
    )
    return membership


def _renew_with_stripe_unreachable(gym, fake_stripe):
    fake_stripe.routes[("POST", "/v1/payment_intents")] = lambda params, headers: (
        503,
        {"error": {"type": "api_error", "message": "unavailable"}},
    )
    with tenant_scope(gym):
        memberships_renew_due(today=TODAY)
        attempt = Payment.objects.get()
    assert attempt.status == Payment.Status.PENDING
    return attempt


@pytest.mark.parametrize("order", ["newest first", "in order"])
def test_renewal_confirmed_by_webhook_out_of_order(client, gym, due, fake_stripe, order):
    # given: the renewal charge was sent but Stripe's answer was lost
    attempt = _renew_with_stripe_unreachable(gym, fake_stripe)
    [sent] = fake_stripe.calls("POST", "/v1/payment_intents")
    assert sent["off_session"] == "true" and sent["payment_method"] == "pm_a"
    pi_id = stripe_id("pi")
    metadata = {"spotter_payment_key": attempt.idempotency_key}
    invoice = attempt.invoice

    def event(type_, status, at):
        obj = intent(
            invoice=invoice, status=status, amount=4800, intent_id=pi_id, metadata=metadata
        )
        return make_event(type_, obj, created=at)

    events = [
        event("payment_intent.created", "requires_payment_method", T0),
        event("payment_intent.processing", "processing", T0 + 1),
        event("payment_intent.succeeded", "succeeded", T0 + 2),
    ]
    if order == "newest first":
        events.reverse()
    # when
    _post_all(client, events + events)
    # then: one successful payment, the period advanced once, still active
    with tenant_scope(gym):
        attempt.refresh_from_db()
        invoice.refresh_from_db()
        due.refresh_from_db()
        assert attempt.status == Payment.Status.SUCCEEDED
        assert attempt.reference == pi_id
        assert Payment.objects.count() == 1
        assert invoice.status == Invoice.Status.PAID
        assert due.status == Membership.Status.ACTIVE
        assert (due.current_period_start, due.current_period_end) == (
            date(2030, 2, 1),
            date(2030, 2, 28),
        )


def test_renewal_decline_by_webhook_then_stale_events(client, gym, due, fake_stripe):
    attempt = _renew_with_stripe_unreachable(gym, fake_stripe)
    pi_id = stripe_id("pi")
    metadata = {"spotter_payment_key": attempt.idempotency_key}

    def event(type_, status, at, **kwargs):
        obj = intent(
            invoice=attempt.invoice,
            status=status,
            amount=4800,
            intent_id=pi_id,
            metadata=metadata,
            **kwargs,
        )
        return make_event(type_, obj, created=at)

    # when: the decline arrives, then the intent's older creation event
    statuses = _post_all(
        client,
        [
            event(
                "payment_intent.payment_failed",
                "requires_payment_method",
                T0 + 5,
                decline_code="insufficient_funds",
            ),
            event("payment_intent.created", "requires_payment_method", T0),
        ],
    )
    # then: past due, the retry scheduled, the reason in plain words
    assert statuses == ["processed", "stale"]
    with tenant_scope(gym):
        attempt.refresh_from_db()
        due.refresh_from_db()
        invoice = attempt.invoice
        invoice.refresh_from_db()
        assert attempt.status == Payment.Status.FAILED
        assert attempt.failure_code == "insufficient_funds"
        assert attempt.failure_message == "The card has insufficient funds."
        assert due.status == Membership.Status.PAST_DUE
        assert invoice.status == Invoice.Status.OPEN
        assert invoice.next_collection_at > timezone.now()
