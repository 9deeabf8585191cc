"""Stripe: cards online (Checkout, the app's PaymentIntents) and off-session charges
of saved cards for renewals and dunning, in the gym's own Stripe account.

Registered through ``settings.BILLING_PROVIDERS``. Constructing it for a gym with no
Stripe keys raises ``ProviderError``, so such a gym only has the manual provider.
What money actually moved is decided by webhooks (``billing.stripe.webhooks``); the
answers returned here are the fast path and are confirmed (idempotently) there.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import stripe

from billing.providers.base import (
    ChargeResult,
    CheckoutSession,
    PaymentProvider,
    ProviderError,
    RefundResult,
    register_provider,
)
from billing.stripe.client import client_for, to_minor
from billing.stripe.config import keys_for
from billing.stripe.declines import decline_message

logger = logging.getLogger(__name__)

# Errors that mean "ask again later with the same idempotency key".
TRANSIENT = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.IdempotencyError,
)


@register_provider
class StripeProvider(PaymentProvider):
    name = "stripe"
    label = "Card (Stripe)"
    supports_off_session = True

    def __init__(self, organisation):
        keys = keys_for(organisation.pk)
        if keys is None:
            raise ProviderError("Stripe is not connected for this gym.")
        super().__init__(organisation)
        self.keys = keys
        self.client = client_for(keys)

    def _metadata(self, **values) -> dict:
        return {
            "spotter_organisation_id": str(self.organisation.pk),
            **{key: str(value) for key, value in values.items() if value not in (None, "")},
        }

    # --- off-session charges (renewals, dunning) ---------------------------------------

    def charge(self, *, amount, currency, payment_method, idempotency_key, description, metadata):
        if payment_method is None or payment_method.provider != self.name:
            return ChargeResult(
                succeeded=False,
                failure_code="no_payment_method",
                failure_message=decline_message("no_payment_method"),
            )
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "customer": payment_method.customer_reference or None,
            "payment_method": payment_method.method_reference,
            "off_session": True,
            "confirm": True,
            "description": description[:500],
            "metadata": self._metadata(
                spotter_invoice_id=metadata.get("invoice_id"),
                spotter_payment_key=idempotency_key,
            ),
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": f"spotter-{idempotency_key}"}
            )
        except stripe.CardError as exc:
            code = (exc.error and (exc.error.decline_code or exc.error.code)) or exc.code
            code = str(code or "card_declined")
            self._after_decline(payment_method, code)
            # No reference on a decline: if the member later completes this intent
            # (3-D Secure), its success is recorded as a new payment by the webhook.
            return ChargeResult(
                succeeded=False,
                failure_code=code,
                failure_message=decline_message(code),
                requires_action=code == "authentication_required",
            )
        except TRANSIENT as exc:
            raise ProviderError(f"Stripe unavailable: {type(exc).__name__}") from exc
        except stripe.InvalidRequestError as exc:
            # Permanent (the card was removed at Stripe...): a failure, not a retry loop.
            code = str(exc.code or "invalid_request")
            return ChargeResult(
                succeeded=False, failure_code=code, failure_message=decline_message(code)
            )
        if intent.status == "succeeded":
            return ChargeResult(succeeded=True, reference=intent.id)
        if intent.status == "requires_action":
            return ChargeResult(
                succeeded=False,
                failure_code="authentication_required",
                failure_message=decline_message("authentication_required"),
                requires_action=True,
            )
        if intent.status == "processing":
            # Settles later (bank debits): left pending, confirmed by the webhook.
            raise ProviderError("Stripe is still processing this payment.")
        return ChargeResult(
            succeeded=False,
            failure_code="card_declined",
            failure_message=decline_message("card_declined"),
        )

    def _after_decline(self, payment_method, code: str) -> None:
        from billing.stripe.services import stripe_card_disable_after_decline

        try:
            stripe_card_disable_after_decline(method=payment_method, decline_code=code)
        except Exception:  # the decline itself must still be recorded
            logger.exception("could not switch off a declined card")

    # --- refunds -----------------------------------------------------------------------

    def refund(self, *, payment_reference, amount, currency, idempotency_key, reason):
        if not payment_reference:
            return RefundResult(succeeded=False, failure_message="No Stripe payment to refund.")
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": payment_reference,
                    "amount": to_minor(amount, currency),
                    "reason": "requested_by_customer",
                    "metadata": self._metadata(
                        spotter_refund_key=idempotency_key, spotter_reason=reason[:400]
                    ),
                },
                options={"idempotency_key": f"spotter-{idempotency_key}"},
            )
        except TRANSIENT as exc:
            raise ProviderError(f"Stripe unavailable: {type(exc).__name__}") from exc
        except stripe.StripeError as exc:
            return RefundResult(
                succeeded=False, failure_message=str(exc.user_message or exc.code or exc)[:255]
            )
        if refund.status in ("failed", "canceled"):
            return RefundResult(
                succeeded=False,
                reference=refund.id,
                failure_message=str(getattr(refund, "failure_reason", None) or refund.status),
            )
        # Confirmed by the refund.updated / refund.created webhook (the source of truth).
        return RefundResult(succeeded=False, reference=refund.id, pending=True)

    # --- paying online -------------------------------------------------------------------

    def _invoice_metadata(self, invoice) -> dict:
        return self._metadata(spotter_invoice_id=invoice.pk, spotter_payer_id=invoice.payer_id)

    def checkout_session(
        self, *, invoice, payer, success_url, cancel_url, save_card: bool = False
    ) -> CheckoutSession:
        from billing.stripe.services import stripe_customer_for

        customer = stripe_customer_for(member=payer)
        amount = to_minor(invoice.amount_due, invoice.currency)
        metadata = self._invoice_metadata(invoice)
        intent_data = {"metadata": metadata, "description": str(invoice)}
        if save_card:
            intent_data["setup_future_usage"] = "off_session"
        hour = datetime.now(tz=UTC).strftime("%Y%m%d%H")
        key = f"spotter-checkout-{invoice.pk}-{amount}-{int(save_card)}-{hour}"
        try:
            session = self.client.v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "customer": customer,
                    "client_reference_id": str(invoice.pk),
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": invoice.currency.lower(),
                                "unit_amount": amount,
                                "product_data": {"name": str(invoice)},
                            },
                        }
                    ],
                    "payment_intent_data": intent_data,
                    "metadata": metadata,
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                },
                # A double click in the same hour opens the same session.
                options={"idempotency_key": key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or type(exc).__name__}") from exc
        return CheckoutSession(url=session.url, reference=session.id)

    def payment_intent(self, *, invoice, payer, save_card: bool = False) -> dict:
        """A PaymentIntent the mobile app confirms with Stripe's SDK."""
        from billing.stripe.services import stripe_customer_for

        customer = stripe_customer_for(member=payer)
        amount = to_minor(invoice.amount_due, invoice.currency)
        params = {
            "amount": amount,
            "currency": invoice.currency.lower(),
            "customer": customer,
            "automatic_payment_methods": {"enabled": True},
            "description": str(invoice),
            "metadata": self._invoice_metadata(invoice),
        }
        if save_card:
            params["setup_future_usage"] = "off_session"
        try:
            intent = self.client.v1.payment_intents.create(
                params=params,
                options={
                    "idempotency_key": f"spotter-app-intent-{invoice.pk}-{amount}-{int(save_card)}"
                },
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or type(exc).__name__}") from exc
        return {
            "payment_intent": intent.id,
            "client_secret": intent.client_secret,
            "customer": customer,
            "publishable_key": self.keys.publishable_key,
        }
