"""The Stripe provider against Stripe's API answered at the HTTP boundary."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

import billing.stripe.client as stripe_client
from accounts.tenancy import tenant_scope
from billing.models import Invoice, Payment, PaymentMethod
from billing.providers import ProviderError, get_provider
from billing.services import invoices_collect_due
from billing.stripe.config import keys_for
from billing.stripe.models import StripeAccount, StripeCustomer
from billing.stripe.services import invoice_checkout_start, stripe_account_connect
from billing.tests.factories import PaymentMethodFactory
from billing.tests.stripe_factories import (
    FakeStripeHTTP,
    StripeAccountFactory,
    card_error,
    intent,
    make_event,
    post_event,
    stripe_id,
)
from gymsite.errors import ServiceError
from gymsite.outbox import outbox_relay
from memberships.models import Membership
from memberships.services import (
    membership_open_invoices,
    membership_purchase,
    memberships_renew_due,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
TODAY = date(2030, 2, 1)


@pytest.fixture
def stripe_gym(gym):
    return StripeAccountFactory(organisation=gym)


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    return fake


@pytest.fixture
def due(gym, member, stripe_gym):
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    return MembershipFactory(
        member=member,
        plan=plan,
        price=Decimal("40.00"),
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 1, 1),
        current_period_end=date(2030, 1, 31),
    )


@pytest.fixture
def card(member):
    return PaymentMethodFactory(
        member=member, provider="stripe", customer_reference="cus_a", method_reference="pm_a"
    )


def _intent_answer(status="succeeded"):
    def answer(params, headers):
        return 200, {
            "id": stripe_id("pi"),
            "object": "payment_intent",
            "status": status,
            "amount": int(params["amount"]),
            "currency": params["currency"],
        }

    return answer


def test_renewal_charges_the_saved_card_off_session(gym, due, card, fake_stripe):
    # given
    fake_stripe.routes[("POST", "/v1/payment_intents")] = _intent_answer()
    # when
    with tenant_scope(gym):
        result = memberships_renew_due(today=TODAY)
    # then
    assert result == {"due": 1, "billed": 1, "charged": 1}
    [(_m, _p, params, headers)] = fake_stripe.requests
    assert params["amount"] == "4800" and params["currency"] == "gbp"
    assert params["off_session"] == "true" and params["confirm"] == "true"
    assert params["customer"] == "cus_a" and params["payment_method"] == "pm_a"
    assert params["metadata[spotter_organisation_id]"] == str(gym.pk)
    assert headers["Idempotency-Key"].startswith("spotter-invoice-")
    with tenant_scope(gym):
        payment = Payment.objects.get()
        due.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.reference.startswith("pi_")
    assert due.current_period_end == date(2030, 2, 28)


def test_renewal_decline_moves_to_past_due_and_schedules_the_retry(gym, due, card, fake_stripe):
    # given: the bank says insufficient funds
    fake_stripe.routes[("POST", "/v1/payment_intents")] = lambda p, h: card_error(
        "insufficient_funds"
    )
    before = timezone.now()
    # when
    with tenant_scope(gym):
        memberships_renew_due(today=TODAY)
        payment = Payment.objects.get()
        invoice = payment.invoice
        due.refresh_from_db()
        card.refresh_from_db()
    # then: recorded in plain words, past due, retried tomorrow with the same card
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_code == "insufficient_funds"
    assert payment.failure_message == "The card has insufficient funds."
    assert due.status == Membership.Status.PAST_DUE
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.collection_attempts == 1
    assert (
        before + timedelta(days=1)
        <= invoice.next_collection_at
        <= timezone.now() + timedelta(days=1)
    )
    assert card.is_active

    # when: the retry is due and the card now works
    fake_stripe.routes[("POST", "/v1/payment_intents")] = _intent_answer()
    with tenant_scope(gym):
        invoices_collect_due(now=invoice.next_collection_at + timedelta(minutes=1))
        invoice.refresh_from_db()
        due.refresh_from_db()
    # then
    assert invoice.status == Invoice.Status.PAID
    assert due.status == Membership.Status.ACTIVE


def test_stolen_card_is_never_charged_again(gym, due, card, fake_stripe):
    # given
    fake_stripe.routes[("POST", "/v1/payment_intents")] = lambda p, h: card_error("stolen_card")
    # when
    with tenant_scope(gym):
        memberships_renew_due(today=TODAY)
        payment = Payment.objects.get()
        card.refresh_from_db()
        invoice = payment.invoice
        invoice.refresh_from_db()
    # then: the card is switched off; the member is asked for a new one
    assert payment.failure_code == "stolen_card"
    assert "add a new card" in payment.failure_message
    assert not card.is_active and not card.is_default
    # when: the dunning retry comes round
    with tenant_scope(gym):
        invoices_collect_due(now=invoice.next_collection_at + timedelta(minutes=1))
        last = Payment.objects.order_by("-pk").first()
    # then: Stripe is not asked again
    assert len(fake_stripe.calls("POST", "/v1/payment_intents")) == 1
    assert last.failure_code == "no_payment_method"


def test_stripe_unreachable_leaves_the_attempt_pending(gym, due, card, fake_stripe):
    fake_stripe.routes[("POST", "/v1/payment_intents")] = lambda p, h: (
        500,
        {"error": {"type": "api_error"}},
    )
    with tenant_scope(gym):
        memberships_renew_due(today=TODAY)
        payment = Payment.objects.get()
        due.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert due.status == Membership.Status.ACTIVE


@pytest.fixture
def open_invoice(gym, member, stripe_gym):
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        membership = membership_purchase(member=member, plan=plan)
        return membership_open_invoices(membership).get()


def test_checkout_session_with_saved_card(gym, member, open_invoice, fake_stripe):
    # given
    fake_stripe.routes[("POST", "/v1/customers")] = lambda p, h: (
        200,
        {"id": "cus_new", "object": "customer"},
    )
    fake_stripe.routes[("POST", "/v1/checkout/sessions")] = lambda p, h: (
        200,
        {"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/cs_1"},
    )
    # when: the member pays online twice (a second try)
    with tenant_scope(gym):
        for _ in range(2):
            session = invoice_checkout_start(
                invoice=open_invoice,
                payer=member,
                success_url="https://gym-a.test/ok",
                cancel_url="https://gym-a.test/no",
                save_card=True,
            )
        customers = list(StripeCustomer.objects.values_list("customer_id", flat=True))
    # then: one customer, a session for what is due that saves the card off-session
    assert session.url == "https://checkout.stripe.com/c/cs_1"
    assert customers == ["cus_new"]
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    params = fake_stripe.calls("POST", "/v1/checkout/sessions")[-1]
    assert params["customer"] == "cus_new"
    assert params["line_items[0][price_data][unit_amount]"] == "4800"
    assert params["payment_intent_data[setup_future_usage]"] == "off_session"
    assert params["payment_intent_data[metadata][spotter_invoice_id]"] == str(open_invoice.pk)
    assert params["metadata[spotter_invoice_id]"] == str(open_invoice.pk)


def test_paid_with_card_saved_keeps_only_stripe_ids(client, gym, member, open_invoice, fake_stripe):
    # given: Stripe describes the card when asked (after commit, through the outbox)
    fake_stripe.routes[("GET", "/v1/payment_methods/pm_saved")] = lambda p, h: (
        200,
        {
            "id": "pm_saved",
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 4, "exp_year": 2031},
        },
    )
    pi = intent(
        invoice=open_invoice,
        status="succeeded",
        amount=4800,
        customer="cus_m",
        payment_method="pm_saved",
        setup_future_usage="off_session",
    )
    # when
    assert post_event(client, make_event("payment_intent.succeeded", pi)).status_code == 200
    with tenant_scope(gym):
        outbox_relay()
        method = PaymentMethod.objects.get()
    # then: references and what the member recognises, nothing else
    assert (method.provider, method.method_reference, method.customer_reference) == (
        "stripe",
        "pm_saved",
        "cus_m",
    )
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == (
        "visa",
        "4242",
        4,
        2031,
    )
    assert method.is_default and method.member_id == member.pk


def test_no_keys_means_no_stripe(gym, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ProviderError):
        get_provider(gym, "stripe")
    assert keys_for(gym.pk) is None


def test_environment_keys_serve_a_one_gym_deployment_only(gym, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_env"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_env"
    assert keys_for(gym.pk).source == "environment"
    from accounts.tests.factories import OrganisationFactory

    OrganisationFactory()
    assert keys_for(gym.pk) is None


def test_connecting_stores_secrets_encrypted(gym):
    account = stripe_account_connect(
        organisation=gym,
        secret_key="sk_test_abc123",
        publishable_key="pk_test_abc",
        webhook_secret="whsec_abc",
    )
    assert "sk_test_abc123" not in account.secret_key_encrypted
    assert "whsec_abc" not in account.webhook_secret_encrypted
    keys = keys_for(gym.pk)
    assert (keys.secret_key, keys.webhook_secret) == ("sk_test_abc123", "whsec_abc")
    assert "sk_test" not in repr(keys)
    # re-keying updates the one account
    stripe_account_connect(
        organisation=gym,
        secret_key="sk_test_new",
        publishable_key="pk_test_x",
        webhook_secret="whsec_n",
    )
    assert StripeAccount.objects.unscoped().filter(organisation=gym).count() == 1
    assert keys_for(gym.pk).secret_key == "sk_test_new"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("secret_key", {"secret_key": "pk_test_wrong"}),
        ("webhook_secret", {"webhook_secret": "nope"}),
        ("publishable_key", {"publishable_key": "pk_live_x"}),
    ],
)
def test_connecting_refuses_bad_keys(gym, field, values):
    keys = {"secret_key": "sk_test_a", "publishable_key": "pk_test_a", "webhook_secret": "whsec_a"}
    with pytest.raises(ServiceError) as error:
        stripe_account_connect(organisation=gym, **{**keys, **values})
    assert error.value.field == field
    assert not StripeAccount.objects.unscoped().exists()
