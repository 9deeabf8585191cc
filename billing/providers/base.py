"""The payment-provider interface.

Rules every provider follows:

- Never store card data: a provider keeps its own references (customer, payment
  method, charge) and Spotter stores only those plus brand / last four / expiry.
- Calls that reach the network are made by billing services *outside* any database
  transaction or row lock; the services write a ``Payment`` (or ``Refund``) row first
  with an ``idempotency_key`` and pass that key, so a retried call charges once.
- A decline is not an exception: ``charge`` returns a failed ``ChargeResult`` with the
  provider's decline code (``card_declined``, ``insufficient_funds``...), which is
  recorded on the ``Payment``. ``ProviderError`` is for the provider being unreachable
  or misconfigured (the attempt is left pending and retried).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings

if TYPE_CHECKING:
    from accounts.models import Member, Organisation
    from billing.models import Invoice, PaymentMethod


class ProviderError(Exception):
    """The provider could not be asked (network, configuration): try again later."""


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    # The charge needs the member (3-D Secure): not a decline, but not paid either.
    requires_action: bool = False
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    failure_message: str = ""
    # Some providers confirm refunds later (by webhook): pending until then.
    pending: bool = False


@dataclass(frozen=True)
class CheckoutSession:
    url: str
    reference: str


class PaymentProvider(ABC):
    """One way of taking money, configured for one organisation."""

    name: ClassVar[str]
    label: ClassVar[str]
    # Can charge a saved method without the member present (renewals, dunning).
    supports_off_session: ClassVar[bool] = False
    # Money is handled in person (cash, card terminal): recorded, never requested.
    in_person: ClassVar[bool] = False

    def __init__(self, organisation: Organisation):
        self.organisation = organisation

    @abstractmethod
    def charge(
        self,
        *,
        amount: Decimal,
        currency: str,
        payment_method: PaymentMethod | None,
        idempotency_key: str,
        description: str,
        metadata: dict,
    ) -> ChargeResult:
        """Charge a saved payment method off-session."""

    @abstractmethod
    def refund(
        self,
        *,
        payment_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        reason: str,
    ) -> RefundResult:
        """Give money back for (part of) an earlier charge."""

    def checkout_session(
        self, *, invoice: Invoice, payer: Member, success_url: str, cancel_url: str
    ) -> CheckoutSession:
        """A hosted page where the member pays an invoice (and may save the method)."""
        raise ProviderError(f"{self.label} has no online checkout.")


_registry: dict[str, type[PaymentProvider]] = {}
BUILTIN_PROVIDERS = ("billing.providers.manual", "billing.providers.sandbox")
_loaded = False


def register_provider(cls: type[PaymentProvider]) -> type[PaymentProvider]:
    _registry[cls.name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in (*BUILTIN_PROVIDERS, *getattr(settings, "BILLING_PROVIDERS", ())):
        importlib.import_module(module)
    _loaded = True


def available_providers() -> dict[str, type[PaymentProvider]]:
    _load()
    return dict(_registry)


def get_provider(organisation: Organisation, name: str) -> PaymentProvider:
    _load()
    try:
        cls = _registry[name]
    except KeyError:
        raise ProviderError(f"Unknown payment provider {name!r}.") from None
    return cls(organisation)
