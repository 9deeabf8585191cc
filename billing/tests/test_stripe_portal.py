"""Paying by card in the portal and the app; connecting Stripe in the admin."""

from decimal import Decimal

import pytest
from django.urls import reverse

import billing.stripe.client as stripe_client
from accounts.tenancy import tenant_scope
from billing.stripe.config import keys_for
from billing.stripe.models import StripeAccount, StripeEvent
from billing.tests.stripe_factories import (
    FakeStripeHTTP,
    StripeAccountFactory,
    StripeEventFactory,
)
from memberships.services import membership_open_invoices, membership_purchase
from memberships.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripeHTTP()
    fake.routes[("POST", "/v1/customers")] = lambda p, h: (
        200,
        {"id": "cus_1", "object": "customer"},
    )
    fake.routes[("POST", "/v1/checkout/sessions")] = lambda p, h: (
        200,
        {"id": "cs_1", "object": "checkout.session", "url": "https://checkout.stripe.com/c/cs_1"},
    )
    fake.routes[("POST", "/v1/payment_intents")] = lambda p, h: (
        200,
        {
            "id": "pi_app",
            "object": "payment_intent",
            "status": "requires_payment_method",
            "client_secret": "pi_app_secret_x",
        },
    )
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    return fake


@pytest.fixture
def invoice(gym, member):
    plan = PlanFactory(organisation=gym, name="Monthly", price=Decimal("40.00"))
    with tenant_scope(gym):
        return membership_open_invoices(membership_purchase(member=member, plan=plan)).get()


def test_without_stripe_the_portal_says_pay_at_the_desk(client_for, member, invoice, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = client_for(member.user)
    url = reverse("billing:stripe_pay", args=[invoice.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "not set up at this gym" in page.content.decode()
    # posting anyway does nothing
    assert client.post(url, {"save_card": "on"}).status_code == 200


def test_pay_by_card_opens_checkout(client_for, gym, member, invoice, fake_stripe):
    StripeAccountFactory(organisation=gym)
    client = client_for(member.user)
    url = reverse("billing:stripe_pay", args=[invoice.pk])
    page = client.get(url)
    assert "Save this card for my renewals" in page.content.decode()
    # when
    response = client.post(url, {"save_card": "on"})
    # then
    assert response.status_code == 302
    assert response.url == "https://checkout.stripe.com/c/cs_1"
    params = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]
    assert params["success_url"].startswith("http://gym-a.test/")
    assert params["payment_intent_data[setup_future_usage]"] == "off_session"


def test_without_consent_the_card_is_not_saved(client_for, gym, member, invoice, fake_stripe):
    StripeAccountFactory(organisation=gym)
    client_for(member.user).post(reverse("billing:stripe_pay", args=[invoice.pk]), {})
    params = fake_stripe.calls("POST", "/v1/checkout/sessions")[0]
    assert "payment_intent_data[setup_future_usage]" not in params


def test_stripe_down_shows_an_error_not_a_500(client_for, gym, member, invoice, monkeypatch):
    StripeAccountFactory(organisation=gym)
    fake = FakeStripeHTTP()  # every route answers 404
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    response = client_for(member.user).post(reverse("billing:stripe_pay", args=[invoice.pk]))
    assert response.status_code == 400
    assert "unavailable" in response.content.decode()


def test_another_members_invoice_is_not_found(client_for, gym, invoice, branch):
    from accounts.tests.factories import MemberFactory, UserFactory

    StripeAccountFactory(organisation=gym)
    stranger = MemberFactory(home_branch=branch, user=UserFactory())
    response = client_for(stranger.user).get(reverse("billing:stripe_pay", args=[invoice.pk]))
    assert response.status_code == 404


def test_app_gets_a_payment_intent(api_client, gym, member, invoice, fake_stripe):
    StripeAccountFactory(organisation=gym)
    api_client.force_authenticate(member.user)
    response = api_client.post(
        f"/api/v1/invoices/{invoice.pk}/stripe-intent", {"save_card": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "payment_intent": "pi_app",
        "client_secret": "pi_app_secret_x",
        "customer": "cus_1",
        "publishable_key": "pk_test_spotter",
    }
    params = fake_stripe.calls("POST", "/v1/payment_intents")[0]
    assert params["metadata[spotter_invoice_id]"] == str(invoice.pk)
    assert params["setup_future_usage"] == "off_session"


def test_app_without_stripe_gets_503(api_client, member, invoice, settings):
    settings.STRIPE_SECRET_KEY = ""
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/invoices/{invoice.pk}/stripe-intent", {}, format="json")
    assert response.status_code == 503


def test_owner_connects_stripe_in_the_admin(client_for, gym, owner):
    client = client_for(owner)
    response = client.post(
        reverse("admin:billing_stripeaccount_add"),
        {
            "account_id": "acct_1",
            "publishable_key": "pk_test_abc",
            "secret_key": "sk_test_abc",
            "webhook_secret": "whsec_abc",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    keys = keys_for(gym.pk)
    assert (keys.secret_key, keys.webhook_secret) == ("sk_test_abc", "whsec_abc")
    account = StripeAccount.objects.unscoped().get(organisation=gym)
    page = client.get(reverse("admin:billing_stripeaccount_change", args=[account.pk]))
    content = page.content.decode()
    assert "sk_test_abc" not in content and "whsec_abc" not in content
    assert "/api/v1/payments/webhook/stripe" in content


def test_front_desk_cannot_see_the_stripe_account(client_for, gym, front_desk):
    account = StripeAccountFactory(organisation=gym)
    client = client_for(front_desk)
    response = client.get(reverse("admin:billing_stripeaccount_change", args=[account.pk]))
    assert response.status_code in (302, 403, 404)


def test_event_ledger_in_the_admin(client_for, gym, owner, django_assert_max_num_queries):
    for _ in range(30):
        StripeEventFactory(organisation=gym, status=StripeEvent.Status.ATTENTION)
    client = client_for(owner)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("admin:billing_stripeevent_changelist") + "?status=attention")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_invoice_page_links_to_paying_by_card(client_for, gym, member, invoice):
    StripeAccountFactory(organisation=gym)
    page = client_for(member.user).get(reverse("billing:invoice", args=[invoice.pk]))
    assert reverse("billing:stripe_pay", args=[invoice.pk]) in page.content.decode()


def test_invoice_page_without_stripe_offers_the_front_desk_only(
    client_for, member, invoice, settings
):
    settings.STRIPE_SECRET_KEY = ""
    settings.BILLING_SANDBOX_ENABLED = False  # as in production: no test cards either
    from billing.stripe.models import StripeAccount

    with tenant_scope(member.organisation):
        StripeAccount.objects.all().delete()
    page = (
        client_for(member.user).get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    )
    assert reverse("billing:stripe_pay", args=[invoice.pk]) not in page
    assert "not set up at this gym" in page
