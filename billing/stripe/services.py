"""Stripe state changes: connecting a gym's account, members' Stripe customers,
saved cards, and paying an invoice online.

Every Stripe API call here runs with no transaction open: reserve what we need in
the database, call Stripe (with an idempotency key), then record the answer.
"""

from __future__ import annotations

import logging

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, Organisation, User
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from billing import services as billing
from billing.models import Invoice, PaymentMethod
from billing.providers import CheckoutSession, ProviderError, get_provider
from billing.stripe.client import client_for
from billing.stripe.config import encrypt, keys_for
from billing.stripe.declines import is_hard_decline
from billing.stripe.models import StripeAccount, StripeCustomer
from gymsite.errors import Conflict, ServiceError
from gymsite.outbox import outbox_handler

logger = logging.getLogger(__name__)


# --- the gym's account -----------------------------------------------------------------


def _check_key(value: str, prefixes: tuple[str, ...], field: str) -> str:
    value = (value or "").strip()
    if not value.startswith(prefixes) or len(value) > 255 or any(c.isspace() for c in value):
        raise ServiceError(
            _("This does not look like a Stripe key (it starts with %(prefix)s).")
            % {"prefix": " / ".join(prefixes)},
            code="invalid_key",
            field=field,
        )
    return value


@transaction.atomic
def stripe_account_connect(
    *,
    organisation: Organisation,
    secret_key: str,
    publishable_key: str,
    webhook_secret: str,
    account_id: str = "",
    actor: User | None = None,
) -> StripeAccount:
    """Connect (or re-key) the gym's own Stripe account. Secrets are stored encrypted."""
    secret_key = _check_key(
        secret_key, ("sk_test_", "sk_live_", "rk_test_", "rk_live_"), "secret_key"
    )
    publishable_key = _check_key(publishable_key, ("pk_test_", "pk_live_"), "publishable_key")
    webhook_secret = _check_key(webhook_secret, ("whsec_",), "webhook_secret")
    livemode = secret_key.startswith(("sk_live_", "rk_live_"))
    if publishable_key.startswith("pk_live_") != livemode:
        raise ServiceError(
            _("The publishable and secret keys must both be live or both be test keys."),
            code="mode_mismatch",
            field="publishable_key",
        )
    with tenant_scope(organisation):
        account = StripeAccount.objects.select_for_update().first() or StripeAccount(
            organisation=organisation
        )
        account.account_id = (account_id or "").strip()[:255]
        account.publishable_key = publishable_key
        account.secret_key_encrypted = encrypt(secret_key)
        account.webhook_secret_encrypted = encrypt(webhook_secret)
        account.livemode = livemode
        account.is_active = True
        account.updated_at = timezone.now()
        account.save()
        if actor is not None:
            audit_record(
                actor=actor,
                action="stripe.connect",
                target=account,
                data={"livemode": livemode},  # never the keys
            )
    return account


@transaction.atomic
def stripe_account_disconnect(*, account: StripeAccount, actor: User | None = None) -> None:
    StripeAccount.objects.filter(pk=account.pk).update(is_active=False, updated_at=timezone.now())
    if actor is not None:
        audit_record(actor=actor, action="stripe.disconnect", target=account)


# --- customers -------------------------------------------------------------------------


def stripe_customer_for(*, member: Member) -> str:
    """The member's Stripe customer id, created at Stripe the first time.

    The create call carries an idempotency key naming the member, so two requests at
    once (or a crash between the call and the insert) still make one customer; the
    unique constraint settles who records it.
    """
    keys = keys_for(member.organisation_id)
    if keys is None:
        raise ProviderError("Stripe is not connected for this gym.")
    existing = StripeCustomer.objects.filter(member=member, livemode=keys.livemode).first()
    if existing is not None:
        return existing.customer_id
    try:
        customer = client_for(keys).v1.customers.create(
            params={
                "email": member.email or None,
                "name": f"{member.first_name} {member.last_name}".strip() or None,
                "metadata": {
                    "spotter_member_id": str(member.pk),
                    "spotter_organisation_id": str(member.organisation_id),
                },
            },
            options={"idempotency_key": f"spotter-customer-{member.organisation_id}-{member.pk}"},
        )
    except stripe.StripeError as exc:
        raise ProviderError(f"Stripe: {exc.user_message or type(exc).__name__}") from exc
    try:
        with transaction.atomic():
            StripeCustomer.objects.create(
                organisation_id=member.organisation_id,
                member=member,
                customer_id=customer.id,
                livemode=keys.livemode,
            )
    except IntegrityError:
        pass
    return StripeCustomer.objects.get(member=member, livemode=keys.livemode).customer_id


# --- saved cards -----------------------------------------------------------------------


@transaction.atomic
def stripe_card_details_update(
    *, method_reference: str, brand: str, last4: str, exp_month, exp_year
) -> PaymentMethod | None:
    """Fill in what a member needs to recognise a saved card (never the number)."""
    method = (
        PaymentMethod.objects.select_for_update()
        .filter(provider="stripe", method_reference=method_reference)
        .first()
    )
    if method is None:
        return None
    method.brand = (brand or "")[:30]
    method.last4 = last4 if last4 and len(last4) == 4 and last4.isdigit() else ""
    method.exp_month = exp_month or None
    method.exp_year = exp_year or None
    method.save(update_fields=["brand", "last4", "exp_month", "exp_year"])
    return method


@transaction.atomic
def stripe_card_disable_after_decline(*, method: PaymentMethod, decline_code: str) -> bool:
    """A card reported lost or stolen (or otherwise unusable) is never charged again:
    it is switched off, so dunning retries ask the member for a new card instead."""
    if not is_hard_decline(decline_code):
        return False
    return bool(
        PaymentMethod.objects.filter(pk=method.pk, is_active=True).update(
            is_active=False, is_default=False
        )
    )


@outbox_handler("stripe.card_details")
def _fetch_card_details(message) -> None:
    """After commit: ask Stripe for a saved card's brand, last four and expiry."""
    keys = keys_for(message.organisation_id)
    if keys is None:
        return
    method_id = message.payload["payment_method"]
    method = client_for(keys).v1.payment_methods.retrieve(method_id)
    card = getattr(method, "card", None)
    if card is None:
        return
    with tenant_scope(message.organisation_id):
        stripe_card_details_update(
            method_reference=method_id,
            brand=str(getattr(card, "brand", "") or ""),
            last4=str(getattr(card, "last4", "") or ""),
            exp_month=getattr(card, "exp_month", None),
            exp_year=getattr(card, "exp_year", None),
        )


# --- paying online ---------------------------------------------------------------------


def invoice_checkout_start(
    *, invoice: Invoice, payer: Member, success_url: str, cancel_url: str, save_card: bool
) -> CheckoutSession:
    """Open Stripe Checkout for what is due on an invoice (no transaction held)."""
    if invoice.status != Invoice.Status.OPEN or invoice.amount_due <= 0:
        raise Conflict(_("This invoice has nothing left to pay."), code="invoice_not_open")
    provider = get_provider(invoice.branch.organisation, "stripe")
    return provider.checkout_session(
        invoice=invoice,
        payer=payer,
        success_url=success_url,
        cancel_url=cancel_url,
        save_card=save_card,
    )


def invoice_payment_intent_start(*, invoice: Invoice, payer: Member, save_card: bool) -> dict:
    """For the mobile app: a PaymentIntent whose client secret the app confirms with
    Stripe's SDK. Same metadata as Checkout, so the same webhook records it."""
    if invoice.status != Invoice.Status.OPEN or invoice.amount_due <= 0:
        raise Conflict(_("This invoice has nothing left to pay."), code="invoice_not_open")
    provider = get_provider(invoice.branch.organisation, "stripe")
    return provider.payment_intent(invoice=invoice, payer=payer, save_card=save_card)


__all__ = [
    "billing",
    "invoice_checkout_start",
    "invoice_payment_intent_start",
    "stripe_account_connect",
    "stripe_account_disconnect",
    "stripe_card_details_update",
    "stripe_card_disable_after_decline",
    "stripe_customer_for",
]
