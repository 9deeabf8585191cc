"""A provider for development, demos and benchmarks: no network, deterministic.

Behaves like a card processor in test mode. A saved method whose reference starts
with ``pm_decline_<code>`` is declined with that code (``pm_decline_insufficient_funds``
→ ``insufficient_funds``); every other method is charged. Offered only when
``settings.BILLING_SANDBOX_ENABLED`` is true (the default with DEBUG).
"""

import hashlib

from django.conf import settings

from billing.providers.base import (
    ChargeResult,
    PaymentProvider,
    ProviderError,
    RefundResult,
    register_provider,
)

DECLINE_PREFIX = "pm_decline_"


@register_provider
class SandboxProvider(PaymentProvider):
    name = "sandbox"
    label = "Sandbox (test payments)"
    supports_off_session = True

    def __init__(self, organisation):
        if not getattr(settings, "BILLING_SANDBOX_ENABLED", settings.DEBUG):
            raise ProviderError("The sandbox payment provider is disabled.")
        super().__init__(organisation)

    @staticmethod
    def _reference(prefix: str, idempotency_key: str) -> str:
        # Same key, same reference: a retried request is one charge, as at a real provider.
        return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"

    def charge(self, *, amount, currency, payment_method, idempotency_key, description, metadata):
        if payment_method is None:
            return ChargeResult(succeeded=False, failure_code="no_payment_method")
        if payment_method.method_reference.startswith(DECLINE_PREFIX):
            code = payment_method.method_reference.removeprefix(DECLINE_PREFIX) or "card_declined"
            return ChargeResult(
                succeeded=False,
                reference=self._reference("ch", idempotency_key),
                failure_code=code,
                failure_message="The card was declined.",
            )
        return ChargeResult(succeeded=True, reference=self._reference("ch", idempotency_key))

    def refund(self, *, payment_reference, amount, currency, idempotency_key, reason):
        return RefundResult(succeeded=True, reference=self._reference("re", idempotency_key))
