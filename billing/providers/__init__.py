"""Payment providers: how money is actually taken, behind one interface.

``get_provider(organisation, name)`` returns a provider instance for one gym. A
provider module registers its class with ``@register_provider``; the modules listed
in ``BUILTIN_PROVIDERS`` (and ``settings.BILLING_PROVIDERS``) are imported on first
use, so the Stripe issue adds ``billing/providers/stripe.py`` and its name to the
setting, nothing else.
"""

from billing.providers.base import (
    ChargeResult,
    CheckoutSession,
    PaymentProvider,
    ProviderError,
    RefundResult,
    available_providers,
    get_provider,
    register_provider,
)

__all__ = [
    "ChargeResult",
    "CheckoutSession",
    "PaymentProvider",
    "ProviderError",
    "RefundResult",
    "available_providers",
    "get_provider",
    "register_provider",
]
