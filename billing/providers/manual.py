"""Money taken in person at the front desk: cash or a standalone card terminal.

Nothing is requested from anyone: the payment is recorded by staff with
``billing.services.payment_record(provider="manual", ...)``. It cannot charge
off-session, so a member without a saved online method pays renewals at the desk.
"""

from decimal import Decimal

from billing.providers.base import ChargeResult, PaymentProvider, RefundResult, register_provider


@register_provider
class ManualProvider(PaymentProvider):
    name = "manual"
    label = "Front desk (cash / card terminal)"
    in_person = True

    def charge(self, *, amount, currency, payment_method, idempotency_key, description, metadata):
        return ChargeResult(
            succeeded=False,
            failure_code="no_payment_method",
            failure_message="No saved payment method: pay at the front desk or online.",
        )

    def refund(
        self, *, payment_reference: str, amount: Decimal, currency, idempotency_key, reason
    ) -> RefundResult:
        # Handed back over the counter by the person recording the refund.
        return RefundResult(succeeded=True, reference="")
