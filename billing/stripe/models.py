"""Stripe rows: a gym's connected account (keys encrypted), its customers, the event
ledger that makes webhooks idempotent, and the latest state seen per Stripe object
that makes them safe out of order.

No card data is ever stored: Stripe ids (``cus_``, ``pm_``, ``pi_``, ``re_``) only.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field


class StripeAccount(TenantModel):
    """A gym's own Stripe account: card tokens stay there and can leave with the gym.

    Secrets are encrypted at rest (``billing.stripe.crypto``); the publishable key is
    public by design.
    """

    account_id = models.CharField(_("Stripe account id"), max_length=255, blank=True)
    publishable_key = models.CharField(_("publishable key"), max_length=255)
    secret_key_encrypted = models.TextField(editable=False)
    webhook_secret_encrypted = models.TextField(editable=False)
    livemode = models.BooleanField(_("live mode"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe account")
        verbose_name_plural = _("Stripe accounts")
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="stripe_account_one_per_gym"),
        ]

    def __str__(self):
        mode = _("live") if self.livemode else _("test")
        return f"Stripe ({mode}) {self.account_id}".strip()


class StripeCustomer(TenantModel):
    """The Stripe customer that holds a member's saved cards in the gym's account."""

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="stripe_customers"
    )
    customer_id = models.CharField(max_length=255)
    livemode = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "member", "livemode"], name="stripe_customer_per_member"
            ),
            models.UniqueConstraint(
                fields=["organisation", "customer_id"], name="stripe_customer_id_unique"
            ),
        ]

    def __str__(self):
        return self.customer_id


class StripeEvent(TenantModel):
    """The event ledger: one row per (gym, Stripe account, event id), claimed before
    acting on it.

    Claimed with ``INSERT ... ON CONFLICT (organisation_id, account, event_id) DO
    NOTHING RETURNING id`` in the transaction that applies the event: a retried or
    concurrent duplicate inserts nothing and is acknowledged; a failure rolls the
    claim back so Stripe's retry is processed. Keyed per gym and account, so an event
    delivered to two gyms' endpoints is applied by each. Only ids, type and a short
    outcome are kept (never the payload, which may carry card details such as brand
    and last four).
    """

    class Status(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        STALE = "stale", _("Older than what we know")
        WAITING = "waiting", _("Waiting for its payment")
        ATTENTION = "attention", _("Needs attention")

    # The Stripe account the event came from ("acct_…"; empty when not known).
    account = models.CharField(max_length=255, blank=True, default="")
    event_id = models.CharField(max_length=255, db_index=True)
    type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=255, blank=True, db_index=True)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField(_("created at Stripe"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROCESSED)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # "webhook" or "reconciliation" (a synthetic event built from a listed object).
    source = models.CharField(max_length=20, default="webhook")

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "account", "event_id"], name="stripe_event_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"], condition=~Q(status="processed"), name="stripe_event_todo"
            )
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class StripePendingEvent(TenantModel):
    """A refund or dispute event that arrived before the payment it is about.

    Kept (never dropped) and applied, exactly as if it had come in order, when the
    payment is recorded; if the payment has not appeared by ``resolve_by``, the
    event's ledger row is raised for staff (*Needs attention*). Only what applying it
    needs is kept: ids, status, amounts and Spotter's own metadata, never card details.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for its payment")
        APPLIED = "applied", _("Applied")
        ATTENTION = "attention", _("Needs attention")

    account = models.CharField(max_length=255, blank=True, default="")
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255)
    payment_intent = models.CharField(max_length=255, db_index=True)
    amount = amount_field(_("amount"))
    currency = currency_field(verbose_name=_("currency"))
    data = models.JSONField(default=dict)
    stripe_created = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolve_by = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe event waiting for its payment")
        verbose_name_plural = _("Stripe events waiting for their payment")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "account", "event_id"], name="stripe_pending_event_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["resolve_by"], condition=Q(status="waiting"), name="stripe_pending_waiting"
            )
        ]

    def __str__(self):
        return f"{self.type} {self.event_id} ({self.payment_intent})"


class StripeObjectState(TenantModel):
    """The latest state Stripe reported for one object (payment intent, refund).

    Events are applied only if they move the object forward (by status rank, then
    by the event's creation time), so an old event arriving late changes nothing
    and a replayed one is a no-op. Updated with a conditional upsert.
    """

    object_id = models.CharField(max_length=255)
    object_type = models.CharField(max_length=40)
    status = models.CharField(max_length=40)
    rank = models.PositiveSmallIntegerField(default=0)
    stripe_created = models.DateTimeField()
    event_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe object state")
        verbose_name_plural = _("Stripe object states")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "object_id"], name="stripe_object_state_unique"
            ),
        ]

    def __str__(self):
        return f"{self.object_id}: {self.status}"


class StripeReconciliation(TenantModel):
    """One run of the reconciliation job: what differed and what was fixed."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    checked = models.PositiveIntegerField(default=0)
    fixed = models.PositiveIntegerField(default=0)
    drift = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("Stripe reconciliation")
        verbose_name_plural = _("Stripe reconciliations")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} ({len(self.drift)} differences)"


__all__ = [
    "StripeAccount",
    "StripeCustomer",
    "StripeEvent",
    "StripeObjectState",
    "StripePendingEvent",
    "StripeReconciliation",
]
