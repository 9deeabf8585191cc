"""Reconciliation: compare recent Stripe objects with our records, fix what is safe.

Webhooks can be missed (endpoint down for longer than Stripe retries, a secret
rotated too early). Every few hours this lists the gym's recent payment intents and
refunds at Stripe and compares:

- an intent that **succeeded** at Stripe for one of our invoices but is not recorded
  (or whose charge attempt is still pending) → **fixed** by applying it exactly as
  its webhook would have (same code, same ledger, so a late webhook is a no-op);
- a refund that **succeeded or failed** at Stripe while ours is still processing →
  **fixed** the same way;
- a payment we record as succeeded that Stripe does not report as succeeded, or a
  refund made outside Spotter (the dashboard) → **reported** for staff, not guessed.

Listing happens with no transaction open; each fix is its own short transaction.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import stripe
from django.utils import timezone

from accounts.tenancy import tenant_scope
from billing.models import Payment, Refund
from billing.stripe.client import client_for
from billing.stripe.config import keys_for
from billing.stripe.models import StripeReconciliation
from billing.stripe.webhooks import event_apply, stripe_pending_events_resolve

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = timedelta(days=3)


def _as_dict(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _synthetic_event(type_: str, obj: dict, *, now: int) -> dict:
    # Named after the object and its state: a second run finds it in the ledger.
    return {
        "id": f"reconcile:{obj['id']}:{obj.get('status', '')}",
        "object": "event",
        "type": type_,
        "created": now,
        "livemode": bool(obj.get("livemode")),
        "data": {"object": obj},
    }


def stripe_reconcile(
    *, organisation_id: int, window: timedelta = DEFAULT_WINDOW, now=None
) -> StripeReconciliation | None:
    """Reconcile one gym (None when it has no Stripe keys)."""
    keys = keys_for(organisation_id)
    if keys is None:
        return None
    now = now or timezone.now()
    with tenant_scope(organisation_id):
        run = StripeReconciliation.objects.create(organisation_id=organisation_id, started_at=now)
    # Refunds and disputes that came before their payment: applied if the payment was
    # recorded without its webhook, raised for staff when overdue (needs no Stripe call;
    # a payment recorded by a fix below applies its own waiting events).
    waiting = stripe_pending_events_resolve(organisation_id=organisation_id, now=now)
    client = client_for(keys)
    since = int((now - window).timestamp())
    drift: list[dict] = []
    checked, fixed = 0, waiting["applied"]
    try:
        intents = [
            _as_dict(pi)
            for pi in client.v1.payment_intents.list(
                params={"created": {"gte": since}, "limit": 100}
            ).auto_paging_iter()
        ]
        refunds = [
            _as_dict(re)
            for re in client.v1.refunds.list(
                params={"created": {"gte": since}, "limit": 100}
            ).auto_paging_iter()
        ]
    except stripe.StripeError as exc:
        with tenant_scope(organisation_id):
            StripeReconciliation.objects.filter(pk=run.pk).update(
                finished_at=timezone.now(), error=f"Stripe: {type(exc).__name__}"[:255]
            )
        logger.warning("stripe reconciliation could not list objects", exc_info=True)
        return run
    stamp = int(time.time())
    ours = str(organisation_id)
    for pi in intents:
        metadata = pi.get("metadata") or {}
        if metadata.get("spotter_organisation_id") != ours or not metadata.get(
            "spotter_invoice_id"
        ):
            continue
        checked += 1
        with tenant_scope(organisation_id):
            recorded = Payment.objects.filter(
                provider="stripe", reference=pi["id"], status=Payment.Status.SUCCEEDED
            ).first()
        if pi.get("status") == "succeeded" and recorded is None:
            outcome = event_apply(
                organisation_id=organisation_id,
                event=_synthetic_event("payment_intent.succeeded", pi, now=stamp),
                source="reconciliation",
                account=keys.account_id,
            )
            ok = outcome.status == "processed"
            fixed += ok
            drift.append(
                {
                    "object": pi["id"],
                    "problem": "succeeded at Stripe, not recorded",
                    "fixed": ok,
                    "note": outcome.outcome,
                }
            )
        elif recorded is not None and pi.get("status") != "succeeded":
            drift.append(
                {
                    "object": pi["id"],
                    "problem": f"recorded as paid, Stripe says {pi.get('status')}",
                    "fixed": False,
                }
            )
    for refund_obj in refunds:
        metadata = refund_obj.get("metadata") or {}
        key = str(metadata.get("spotter_refund_key", ""))
        if metadata.get("spotter_organisation_id") != ours or not key.startswith("refund-"):
            with tenant_scope(organisation_id):
                ours_payment = Payment.objects.filter(
                    provider="stripe", reference=refund_obj.get("payment_intent") or "-"
                ).exists()
            if ours_payment and not metadata.get("spotter_refund_key"):
                checked += 1
                drift.append(
                    {
                        "object": refund_obj["id"],
                        "problem": "refund made outside Spotter",
                        "fixed": False,
                    }
                )
            continue
        checked += 1
        pk = key.removeprefix("refund-")
        with tenant_scope(organisation_id):
            refund = Refund.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
        if refund is None:
            drift.append({"object": refund_obj["id"], "problem": "unknown refund", "fixed": False})
            continue
        status = refund_obj.get("status")
        if refund.status == Refund.Status.PENDING and status in ("succeeded", "failed", "canceled"):
            outcome = event_apply(
                organisation_id=organisation_id,
                event=_synthetic_event("refund.updated", refund_obj, now=stamp),
                source="reconciliation",
                account=keys.account_id,
            )
            ok = outcome.status == "processed"
            fixed += ok
            drift.append(
                {
                    "object": refund_obj["id"],
                    "problem": f"refund {status} at Stripe, processing here",
                    "fixed": ok,
                    "note": outcome.outcome,
                }
            )
    with tenant_scope(organisation_id):
        StripeReconciliation.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), checked=checked, fixed=fixed, drift=drift
        )
        run.refresh_from_db()
    if drift:
        logger.warning(
            "stripe reconciliation found drift",
            extra={"organisation": organisation_id, "differences": len(drift), "fixed": fixed},
        )
    return run
