"""Which Stripe account a gym uses, and its keys.

A gym connects its own account (``StripeAccount``, secrets encrypted with a key
derived from ``SECRET_KEY``). A one-gym deployment may instead set
``STRIPE_SECRET_KEY`` / ``STRIPE_PUBLISHABLE_KEY`` / ``STRIPE_WEBHOOK_SECRET`` in the
environment: they apply only when there is exactly one organisation, so a second gym
never takes payments into the first gym's account.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from accounts.models import Organisation


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"spotter.stripe-keys:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(value: str) -> str:
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        # SECRET_KEY changed since the keys were saved: treat as not connected.
        return ""


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    source: str  # "account" or "environment"
    account_id: str = ""  # "acct_…" when the gym entered it

    @property
    def livemode(self) -> bool:
        return self.secret_key.startswith(("sk_live_", "rk_live_"))

    def __repr__(self):  # never print a secret into a log or a traceback
        return f"StripeKeys(source={self.source!r}, livemode={self.livemode})"


def keys_for(organisation_id: int) -> StripeKeys | None:
    """The gym's Stripe keys, or None when Stripe is not set up for it."""
    from billing.stripe.models import StripeAccount

    # Explicit organisation filter: callers (webhooks) may run before a scope exists.
    account = (
        StripeAccount.objects.unscoped()
        .filter(organisation_id=organisation_id, is_active=True)
        .first()
    )
    if account is not None:
        secret_key = decrypt(account.secret_key_encrypted)
        if secret_key:
            return StripeKeys(
                secret_key=secret_key,
                publishable_key=account.publishable_key,
                webhook_secret=decrypt(account.webhook_secret_encrypted),
                source="account",
                account_id=account.account_id,
            )
        return None
    secret_key = getattr(settings, "STRIPE_SECRET_KEY", "")
    if secret_key and list(Organisation.objects.values_list("pk", flat=True)[:2]) == [
        organisation_id
    ]:
        return StripeKeys(
            secret_key=secret_key,
            publishable_key=getattr(settings, "STRIPE_PUBLISHABLE_KEY", ""),
            webhook_secret=getattr(settings, "STRIPE_WEBHOOK_SECRET", ""),
            source="environment",
        )
    return None


def stripe_enabled(organisation_id: int) -> bool:
    return keys_for(organisation_id) is not None
