"""The one place that builds a Stripe API client.

``HTTP_CLIENT`` is the HTTP boundary: None uses the library's default client; tests
put a ``stripe.HTTPClient`` subclass there that answers like Stripe's API, so every
line of our code (and of the library) runs as in production.
"""

from __future__ import annotations

from decimal import Decimal

import stripe

from billing.stripe.config import StripeKeys

HTTP_CLIENT: stripe.HTTPClient | None = None
MAX_NETWORK_RETRIES = 2

# Currencies Stripe counts in whole units (no minor unit).
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)


def client_for(keys: StripeKeys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.secret_key,
        http_client=HTTP_CLIENT,
        max_network_retries=MAX_NETWORK_RETRIES,
    )


def to_minor(amount: Decimal, currency: str) -> int:
    if currency.lower() in ZERO_DECIMAL:
        return int(amount)
    return int((amount * 100).to_integral_value())


def from_minor(value: int, currency: str) -> Decimal:
    if currency.lower() in ZERO_DECIMAL:
        return Decimal(value).quantize(Decimal("0.01"))
    return (Decimal(value) / 100).quantize(Decimal("0.01"))
