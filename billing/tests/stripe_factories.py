"""Factories and helpers for the Stripe tests.

Events are built as Stripe sends them and signed with the library's own scheme
(``stripe.WebhookSignature``); outbound API calls are answered by ``FakeStripeHTTP``
at the HTTP-client boundary (``billing.stripe.client.HTTP_CLIENT``), so all of our
code and the library's request/response handling run for real.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from urllib.parse import parse_qsl, urlparse

import factory
import stripe
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import MemberFactory, OrganisationFactory
from billing.stripe.config import encrypt
from billing.stripe.models import (
    StripeAccount,
    StripeCustomer,
    StripeEvent,
    StripeObjectState,
    StripePendingEvent,
    StripeReconciliation,
)

SECRET_KEY = "sk_test_spotter_a"
WEBHOOK_SECRET = "whsec_test_gym_a_secret"
OTHER_WEBHOOK_SECRET = "whsec_test_gym_b_secret"


class StripeAccountFactory(DjangoModelFactory):
    class Meta:
        model = StripeAccount

    class Params:
        secret_key = SECRET_KEY
        webhook_secret = WEBHOOK_SECRET

    organisation = factory.SubFactory(OrganisationFactory)
    account_id = factory.Sequence(lambda n: f"acct_test{n}")
    publishable_key = "pk_test_spotter"
    secret_key_encrypted = factory.LazyAttribute(lambda o: encrypt(o.secret_key))
    webhook_secret_encrypted = factory.LazyAttribute(lambda o: encrypt(o.webhook_secret))
    livemode = False


class StripeCustomerFactory(DjangoModelFactory):
    class Meta:
        model = StripeCustomer

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    customer_id = factory.Sequence(lambda n: f"cus_test{n}")


class StripeEventFactory(DjangoModelFactory):
    class Meta:
        model = StripeEvent

    organisation = factory.SubFactory(OrganisationFactory)
    event_id = factory.Sequence(lambda n: f"evt_factory{n}")
    type = "payment_intent.created"
    object_id = factory.Sequence(lambda n: f"pi_factory{n}")
    stripe_created = factory.LazyFunction(timezone.now)


class StripeObjectStateFactory(DjangoModelFactory):
    class Meta:
        model = StripeObjectState

    organisation = factory.SubFactory(OrganisationFactory)
    object_id = factory.Sequence(lambda n: f"pi_state{n}")
    object_type = "payment_intent"
    status = "requires_payment_method"
    stripe_created = factory.LazyFunction(timezone.now)


class StripePendingEventFactory(DjangoModelFactory):
    class Meta:
        model = StripePendingEvent

    organisation = factory.SubFactory(OrganisationFactory)
    event_id = factory.Sequence(lambda n: f"evt_waiting{n}")
    type = "charge.refunded"
    object_id = factory.Sequence(lambda n: f"ch_waiting{n}")
    payment_intent = factory.Sequence(lambda n: f"pi_waiting{n}")
    amount = 0
    currency = "GBP"
    stripe_created = factory.LazyFunction(timezone.now)
    resolve_by = factory.LazyFunction(timezone.now)


class StripeReconciliationFactory(DjangoModelFactory):
    class Meta:
        model = StripeReconciliation

    organisation = factory.SubFactory(OrganisationFactory)


# --- events, as Stripe sends them ------------------------------------------------------

_ids = itertools.count(1)


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}{next(_ids)}"


def make_event(type_: str, obj: dict, *, created: int | None = None, event_id: str | None = None):
    return {
        "id": event_id or stripe_id("evt"),
        "object": "event",
        "api_version": stripe.api_version,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def intent(
    *,
    invoice,
    status: str,
    amount: int,
    intent_id: str | None = None,
    metadata: dict | None = None,
    decline_code: str = "",
    customer: str | None = None,
    payment_method: str | None = None,
    setup_future_usage: str | None = None,
) -> dict:
    meta = {
        "spotter_organisation_id": str(invoice.organisation_id),
        "spotter_invoice_id": str(invoice.pk),
    }
    meta.update(metadata or {})
    return {
        "id": intent_id or stripe_id("pi"),
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": invoice.currency.lower(),
        "customer": customer,
        "payment_method": payment_method,
        "setup_future_usage": setup_future_usage,
        "status": status,
        "created": int(time.time()) - 60,
        "livemode": False,
        "metadata": meta,
        "last_payment_error": (
            {"type": "card_error", "code": "card_declined", "decline_code": decline_code}
            if decline_code
            else None
        ),
    }


def refund_object(*, refund, intent_id: str, status: str, amount: int, refund_id: str) -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": refund.currency.lower(),
        "payment_intent": intent_id,
        "status": status,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        "metadata": {
            "spotter_organisation_id": str(refund.organisation_id),
            "spotter_refund_key": f"refund-{refund.pk}",
        },
    }


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header, computed exactly as the library verifies it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},v1={signature}"


def post_event(client, event, *, secret: str = WEBHOOK_SECRET, timestamp=None, host="gym-a.test"):
    payload = json.dumps(event)
    return client.post(
        "/api/v1/payments/webhook/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret, timestamp),
        HTTP_HOST=host,
    )


# --- Stripe's API, at the HTTP boundary --------------------------------------------------


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers the library's HTTP requests like Stripe's API would.

    ``routes[(method, path)] = fn(params: dict, headers: dict) -> (status, body)``.
    Every request is kept in ``requests`` (method, path, params, headers).
    """

    name = "fake"

    def __init__(self):
        super().__init__()
        self.routes = {}
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parsed = urlparse(url)
        params = dict(parse_qsl(post_data or parsed.query or ""))
        self.requests.append((method.upper(), parsed.path, params, dict(headers or {})))
        route = self.routes.get((method.upper(), parsed.path))
        if route is None:
            status, body = 404, {"error": {"type": "invalid_request_error", "message": "no route"}}
        else:
            status, body = route(params, dict(headers or {}))
        return json.dumps(body), status, {"Request-Id": stripe_id("req")}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError

    def close(self):
        pass

    def calls(self, method: str, path: str) -> list[dict]:
        return [params for m, p, params, _h in self.requests if (m, p) == (method, path)]


def card_error(decline_code: str, intent_id: str = "") -> tuple[int, dict]:
    return 402, {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": decline_code,
            "message": "Your card was declined.",
            "payment_intent": {"id": intent_id or stripe_id("pi"), "object": "payment_intent"},
        }
    }
