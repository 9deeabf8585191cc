"""Stripe webhooks: the source of truth for what happened to money.

``webhook_receive`` verifies the signature with the gym's webhook secret, then
``event_apply`` claims the event in the ledger and applies it, all in one
transaction:

- **Claim**: ``INSERT ... ON CONFLICT (event_id) DO NOTHING RETURNING id``. A
  concurrent duplicate waits on the unique index until the first commits, then
  inserts nothing and is acknowledged; if the first rolls back, the duplicate wins
  and applies it. Never check-then-insert.
- **Order**: each Stripe object's latest applied state is kept in
  ``StripeObjectState`` and an event is applied only if it moves the object forward
  (status rank, then the event's time), with one conditional upsert. An old event
  arriving late, or a replay, changes nothing; nothing is ever incremented from an
  event: amounts come from the object's absolute fields.
- **Quick**: only database work happens here; emails (receipts, activation) are put
  in the outbox by the billing services, and any Stripe API call (a saved card's
  details) is queued to the outbox too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import stripe
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Member
from accounts.tenancy import tenant_scope
from billing import services as billing
from billing.models import Invoice, Payment, PaymentMethod, Refund
from billing.providers import ChargeResult
from billing.stripe.client import from_minor
from billing.stripe.config import keys_for
from billing.stripe.declines import decline_message
from billing.stripe.models import (
    StripeCustomer,
    StripeEvent,
    StripeObjectState,
    StripePendingEvent,
)
from gymsite.errors import ServiceError
from gymsite.outbox import outbox_enqueue

logger = logging.getLogger(__name__)

PROVIDER = "stripe"
# Seconds a signed request stays valid (Stripe's own default): older is a replay.
SIGNATURE_TOLERANCE = 300

# Forward order of a payment intent's life. A failure can be followed by a success
# (the member tries another card on the same intent), never the reverse.
INTENT_RANK = {
    "payment_intent.created": 0,
    "payment_intent.requires_action": 1,
    "payment_intent.processing": 1,
    "payment_intent.payment_failed": 2,
    "payment_intent.canceled": 3,
    "payment_intent.succeeded": 4,
    # The checkout session that paid an intent reports the same success.
    "checkout.session.completed": 4,
    "checkout.session.async_payment_succeeded": 4,
}
REFUND_RANK = {"pending": 0, "requires_action": 1, "succeeded": 2, "failed": 3, "canceled": 3}

S = StripeEvent.Status


class WebhookRejected(Exception):
    """The request is not a genuine, well-formed Stripe event for this gym (→ 400)."""


@dataclass(frozen=True)
class EventOutcome:
    event_id: str
    duplicate: bool
    status: str = ""
    outcome: str = ""


# --- receiving ------------------------------------------------------------------------


def webhook_receive(*, organisation_id: int, payload: bytes, signature: str) -> EventOutcome:
    """Verify and apply one delivery. Raises ``WebhookRejected`` with nothing changed."""
    keys = keys_for(organisation_id)
    if keys is None or not keys.webhook_secret:
        raise WebhookRejected("Stripe webhooks are not set up for this gym.")
    if not signature:
        raise WebhookRejected("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, keys.webhook_secret, SIGNATURE_TOLERANCE
        )
        event = json.loads(text)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Bad signature: {exc.user_message or exc}") from None
    except ValueError:  # bad UTF-8 or JSON (UnicodeDecodeError, JSONDecodeError)
        raise WebhookRejected("The body is not valid JSON.") from None
    _check_shape(event)
    if bool(event.get("livemode")) != keys.livemode:
        raise WebhookRejected("Live/test mode of the event does not match the gym's keys.")
    return event_apply(organisation_id=organisation_id, event=event, account=keys.account_id)


def _check_shape(event) -> None:
    if not isinstance(event, dict):
        raise WebhookRejected("The event must be a JSON object.")
    data = event.get("data")
    if (
        event.get("object") != "event"
        or not isinstance(event.get("id"), str)
        or not event["id"].startswith("evt_")
        or len(event["id"]) > 255
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("created"), int)
        or not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
    ):
        raise WebhookRejected("The body is not a Stripe event.")


# --- applying ------------------------------------------------------------------------


def _event_account(event: dict, account: str) -> str:
    """The Stripe account an event belongs to: named in the event (Connect), else the
    account the gym connected ("" when it did not enter its id)."""
    named = event.get("account")
    return (named if isinstance(named, str) else account or "")[:255]


def event_apply(
    *, organisation_id: int, event: dict, source: str = "webhook", account: str = ""
) -> EventOutcome:
    """Claim an (already verified) event in the gym's ledger and apply it, once."""
    obj = event["data"]["object"]
    account = _event_account(event, account)
    with tenant_scope(organisation_id), transaction.atomic():
        if not _claim(organisation_id, account, event, obj, source):
            return EventOutcome(event_id=event["id"], duplicate=True, status="duplicate")
        handler = HANDLERS.get(event["type"])
        if handler is None:
            status, outcome = S.IGNORED, "Event type not used by Spotter."
        else:
            status, outcome = handler(organisation_id, event, obj)
            if status == S.WAITING:
                _wait_for_payment(organisation_id, account, event, obj, outcome)
        StripeEvent.objects.filter(account=account, event_id=event["id"]).update(
            status=status, outcome=str(outcome)[:255]
        )
    logger.info(
        "stripe event applied",
        extra={"event_id": event["id"], "type": event["type"], "status": status},
    )
    return EventOutcome(event_id=event["id"], duplicate=False, status=status, outcome=outcome)


def _stripe_time(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _claim(organisation_id: int, account: str, event: dict, obj: dict, source: str) -> bool:
    table = StripeEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table}
                (organisation_id, account, event_id, type, object_id, livemode,
                 stripe_created, status, outcome, received_at, source)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', %s, %s)
            ON CONFLICT (organisation_id, account, event_id) DO NOTHING
            RETURNING id
            """,  # noqa: S608 (table name is ours, values are parameters)
            [
                organisation_id,
                account,
                event["id"],
                event["type"][:100],
                str(obj.get("id", ""))[:255],
                bool(event.get("livemode")),
                _stripe_time(event["created"]),
                S.PROCESSED,
                timezone.now(),
                source,
            ],
        )
        return cursor.fetchone() is not None


def _advance(
    organisation_id: int, *, obj: dict, object_type: str, status: str, rank: int, event: dict
) -> bool:
    """Record the object's new state if it moves forward; False for an old event."""
    table = StripeObjectState._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} AS t
                (organisation_id, object_id, object_type, status, rank, stripe_created,
                 event_id, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (organisation_id, object_id) DO UPDATE SET
                status = EXCLUDED.status, rank = EXCLUDED.rank,
                stripe_created = EXCLUDED.stripe_created, event_id = EXCLUDED.event_id,
                updated_at = EXCLUDED.updated_at
            WHERE (EXCLUDED.rank, EXCLUDED.stripe_created) > (t.rank, t.stripe_created)
            RETURNING id
            """,  # noqa: S608 (table name is ours, values are parameters)
            [
                organisation_id,
                obj["id"],
                object_type,
                status[:40],
                rank,
                _stripe_time(event["created"]),
                event["id"],
                timezone.now(),
            ],
        )
        return cursor.fetchone() is not None


def _serialise(key: str) -> None:
    """Apply one Stripe object's events one at a time (two different events about the
    same payment, e.g. the intent and its checkout session). Taken before any row
    lock, so it never inverts the architecture's lock order."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _metadata(obj: dict) -> dict:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _foreign(organisation_id: int, metadata: dict) -> bool:
    claimed = str(metadata.get("spotter_organisation_id", ""))
    return bool(claimed) and claimed != str(organisation_id)


def _invoice_for(metadata: dict) -> Invoice | None:
    invoice_id = str(metadata.get("spotter_invoice_id", ""))
    if not invoice_id.isdigit():
        return None
    return (
        Invoice.objects.select_related("payer", "branch__organisation")
        .filter(pk=int(invoice_id))
        .first()
    )


def _attempt_for(invoice: Invoice, intent_id: str, metadata: dict) -> Payment | None:
    """Our own record of this charge attempt (off-session renewals, dunning, app)."""
    match = Q(reference=intent_id)
    key = metadata.get("spotter_payment_key")
    if key:
        match |= Q(idempotency_key=str(key))
    return (
        Payment.objects.filter(invoice=invoice, provider=PROVIDER)
        .filter(match)
        .order_by("pk")
        .first()
    )


# --- payment intents -------------------------------------------------------------------


def _intent_common(organisation_id: int, event: dict, intent: dict):
    """(invoice, None) when the event is ours to apply, else (None, (status, outcome))."""
    metadata = _metadata(intent)
    if _foreign(organisation_id, metadata):
        return None, (S.IGNORED, "Belongs to another organisation.")
    if not metadata.get("spotter_invoice_id"):
        return None, (S.IGNORED, "Not a Spotter payment (no invoice in its metadata).")
    invoice = _invoice_for(metadata)
    if invoice is None:
        return None, (S.IGNORED, "Unknown invoice.")
    return invoice, None


def _on_intent_succeeded(organisation_id: int, event: dict, intent: dict):
    _serialise(f"stripe:{intent['id']}")
    invoice, skip = _intent_common(organisation_id, event, intent)
    if skip:
        return skip
    if not _advance(
        organisation_id,
        obj=intent,
        object_type="payment_intent",
        status=intent.get("status", "succeeded"),
        rank=INTENT_RANK[event["type"]],
        event=event,
    ):
        return S.STALE, "Already at this state or later."
    return _record_success(
        invoice=invoice,
        intent_id=intent["id"],
        amount_minor=intent.get("amount_received") or intent.get("amount") or 0,
        currency=str(intent.get("currency", "")),
        metadata=_metadata(intent),
        customer_id=intent.get("customer") or "",
        payment_method_id=intent.get("payment_method") or "",
        save_card=intent.get("setup_future_usage") in ("off_session", "on_session"),
    )


def _on_checkout_completed(organisation_id: int, event: dict, session: dict):
    intent_id = session.get("payment_intent")
    if session.get("mode") != "payment" or not isinstance(intent_id, str):
        return S.IGNORED, "Not a one-off payment session."
    if session.get("payment_status") != "paid":
        return S.PROCESSED, "Awaiting an asynchronous payment."
    _serialise(f"stripe:{intent_id}")
    invoice, skip = _intent_common(organisation_id, event, session)
    if skip:
        return skip
    # The session speaks for its payment intent: order them together.
    if not _advance(
        organisation_id,
        obj={"id": intent_id},
        object_type="payment_intent",
        status="succeeded",
        rank=INTENT_RANK[event["type"]],
        event=event,
    ):
        return S.STALE, "Already at this state or later."
    return _record_success(
        invoice=invoice,
        intent_id=intent_id,
        amount_minor=session.get("amount_total") or 0,
        currency=str(session.get("currency", "")),
        metadata=_metadata(session),
        customer_id=session.get("customer") or "",
        payment_method_id="",
        save_card=False,
    )


def _record_success(*, invoice: Invoice, intent_id: str, **kwargs):
    status, outcome = _record_payment(invoice=invoice, intent_id=intent_id, **kwargs)
    # Refunds or disputes of this payment that arrived before it apply now.
    _apply_waiting(invoice.organisation_id, intent_id)
    return status, outcome


def _record_payment(
    *,
    invoice: Invoice,
    intent_id: str,
    amount_minor: int,
    currency: str,
    metadata: dict,
    customer_id: str,
    payment_method_id: str,
    save_card: bool,
):
    if currency.upper() != invoice.currency:
        return S.ATTENTION, f"Paid in {currency.upper()}, invoice is in {invoice.currency}."
    if save_card and payment_method_id and customer_id:
        _save_card(invoice.payer, customer_id=customer_id, payment_method_id=payment_method_id)
    attempt = _attempt_for(invoice, intent_id, metadata)
    if attempt is not None and attempt.status == Payment.Status.SUCCEEDED:
        return S.PROCESSED, f"Payment {attempt.pk} already recorded."
    if attempt is not None and attempt.status == Payment.Status.PENDING:
        payment = billing.payment_attempt_complete(
            payment=attempt, result=ChargeResult(succeeded=True, reference=intent_id)
        )
        return S.PROCESSED, f"Charge attempt {payment.pk} confirmed."
    amount = from_minor(int(amount_minor), currency)
    try:
        payment = billing.payment_record(
            invoice=invoice, amount=amount, provider=PROVIDER, reference=intent_id
        )
    except ServiceError as exc:
        # Paid twice (at the desk meanwhile), or more than was due: the money is at
        # Stripe and staff decide (usually a refund). Reported, never lost.
        return S.ATTENTION, f"Not recorded ({exc.code}): {exc}"
    except IntegrityError:
        return S.ATTENTION, "Not recorded: this payment intent is already on another payment."
    return S.PROCESSED, f"Payment {payment.pk} recorded."


def _on_intent_failed(organisation_id: int, event: dict, intent: dict):
    _serialise(f"stripe:{intent['id']}")
    invoice, skip = _intent_common(organisation_id, event, intent)
    if skip:
        return skip
    if not _advance(
        organisation_id,
        obj=intent,
        object_type="payment_intent",
        status=intent.get("status", ""),
        rank=INTENT_RANK[event["type"]],
        event=event,
    ):
        return S.STALE, "Already at this state or later."
    error = intent.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or "card_declined")
    if event["type"] == "payment_intent.canceled":
        code = "canceled"
    attempt = _attempt_for(invoice, intent["id"], _metadata(intent))
    if attempt is not None and attempt.status == Payment.Status.PENDING:
        billing.payment_attempt_complete(
            payment=attempt,
            result=ChargeResult(
                succeeded=False, failure_code=code, failure_message=decline_message(code)
            ),
        )
        return S.PROCESSED, f"Charge attempt {attempt.pk} failed: {code}."
    return S.PROCESSED, f"Declined: {code}."


def _on_intent_progress(organisation_id: int, event: dict, intent: dict):
    """created / processing / requires_action: only remembered, so an older event
    that arrives after a newer one is recognised as old."""
    _invoice, skip = _intent_common(organisation_id, event, intent)
    if skip:
        return skip
    advanced = _advance(
        organisation_id,
        obj=intent,
        object_type="payment_intent",
        status=intent.get("status", ""),
        rank=INTENT_RANK[event["type"]],
        event=event,
    )
    return (S.PROCESSED, intent.get("status", "")) if advanced else (S.STALE, "Older state.")


# --- saved cards -------------------------------------------------------------------------


def _save_card(payer: Member, *, customer_id: str, payment_method_id: str) -> None:
    """Keep the card's Stripe ids for off-session charges; its brand and last four are
    fetched from Stripe after commit (no API call here)."""
    known = StripeCustomer.objects.filter(customer_id=customer_id).first()
    if known is not None and known.member_id != payer.pk:
        logger.warning("stripe customer belongs to another member", extra={"member": payer.pk})
        return
    existing = PaymentMethod.objects.filter(
        provider=PROVIDER, method_reference=payment_method_id
    ).first()
    billing.payment_method_save(
        member=payer,
        provider=PROVIDER,
        method_reference=payment_method_id,
        customer_reference=customer_id,
        brand=existing.brand if existing else "",
        last4=existing.last4 if existing else "",
        exp_month=existing.exp_month if existing else None,
        exp_year=existing.exp_year if existing else None,
    )
    if existing is None or not existing.last4:
        outbox_enqueue(
            kind="stripe.card_details",
            payload={"payment_method": payment_method_id},
            organisation_id=payer.organisation_id,
            dedupe_key=f"stripe-card-details-{payment_method_id}",
        )


def _on_payment_method_detached(organisation_id: int, event: dict, method: dict):
    saved = PaymentMethod.objects.filter(
        provider=PROVIDER, method_reference=method["id"], is_active=True
    ).first()
    if saved is None:
        return S.IGNORED, "Not a saved card."
    billing.payment_method_remove(method=saved)
    return S.PROCESSED, f"Saved card {saved.pk} removed."


# --- refunds -------------------------------------------------------------------------------


def _refund_for(refund_obj: dict) -> Refund | None:
    """Our refund row for a Stripe refund: named in its metadata by the idempotency key
    billing sends (``refund-<pk>``), and checked against the payment it refunds."""
    key = str(_metadata(refund_obj).get("spotter_refund_key", ""))
    pk = key.removeprefix("refund-")
    if not key.startswith("refund-") or not pk.isdigit():
        return None
    refund = Refund.objects.select_related("payment").filter(pk=int(pk)).first()
    if refund is None or refund.payment.provider != PROVIDER:
        return None
    intent = refund_obj.get("payment_intent")
    if intent and refund.payment.reference and intent != refund.payment.reference:
        return None
    return refund


def _payment_for_intent(intent_id) -> Payment | None:
    if not isinstance(intent_id, str) or not intent_id:
        return None
    return (
        Payment.objects.filter(
            provider=PROVIDER, reference=intent_id, status=Payment.Status.SUCCEEDED
        )
        .order_by("pk")
        .first()
    )


def _amount(obj: dict, field: str = "amount"):
    return from_minor(int(obj.get(field) or 0), str(obj.get("currency", "")))


def _on_refund(organisation_id: int, event: dict, refund_obj: dict):
    if refund_obj.get("object") != "refund":
        return S.IGNORED, "Not a refund."
    if _foreign(organisation_id, _metadata(refund_obj)):
        return S.IGNORED, "Belongs to another organisation."
    _serialise(f"stripe:{refund_obj['id']}")
    refund = _refund_for(refund_obj)
    if refund is None:
        amount = _amount(refund_obj)
        currency = str(refund_obj.get("currency", "")).upper()
        if _payment_for_intent(refund_obj.get("payment_intent")) is None:
            return S.WAITING, f"Refund of {amount} {currency} before its payment: kept."
        return S.ATTENTION, (
            f"A refund of {amount} {currency} made outside Spotter (e.g. the Stripe dashboard)."
        )
    status = str(refund_obj.get("status", "pending"))
    if event["type"] == "refund.failed":
        status = "failed"
    if not _advance(
        organisation_id,
        obj=refund_obj,
        object_type="refund",
        status=status,
        rank=REFUND_RANK.get(status, 0),
        event=event,
    ):
        return S.STALE, "Already at this state or later."
    amount = _amount(refund_obj)
    if amount != refund.amount:
        return S.ATTENTION, f"Stripe refunded {amount}, Spotter asked for {refund.amount}."
    if status == "succeeded":
        billing.refund_complete(refund=refund, succeeded=True, reference=refund_obj["id"])
        return S.PROCESSED, f"Refund {refund.pk} confirmed."
    if status in ("failed", "canceled"):
        billing.refund_complete(
            refund=refund,
            succeeded=False,
            reference=refund_obj["id"],
            message=str(refund_obj.get("failure_reason") or status),
        )
        return S.PROCESSED, f"Refund {refund.pk} {status}."
    return S.PROCESSED, f"Refund {refund.pk} {status}."


def _on_charge_refunded(organisation_id: int, event: dict, charge: dict):
    """The charge's total refunded (absolute, never added up): compared, not applied.
    Each refund is applied from its own refund event."""
    if _foreign(organisation_id, _metadata(charge)):
        return S.IGNORED, "Belongs to another organisation."
    refunded = _amount(charge, "amount_refunded")
    payment = _payment_for_intent(charge.get("payment_intent"))
    if payment is None:
        if not charge.get("payment_intent"):
            return S.IGNORED, "Not a Spotter payment (no payment intent)."
        return S.WAITING, f"{refunded} refunded before its payment was recorded: kept."
    if refunded > payment.amount_refunded:
        return S.ATTENTION, (
            f"Stripe has refunded {refunded}, Spotter knows of {payment.amount_refunded}."
        )
    return S.PROCESSED, f"{refunded} refunded at Stripe."


def _on_dispute(organisation_id: int, event: dict, dispute: dict):
    """A chargeback: the bank takes the money back. Never guessed at: staff answer it
    in Stripe's dashboard, so it is raised for them."""
    if dispute.get("object") != "dispute":
        return S.IGNORED, "Not a dispute."
    if _foreign(organisation_id, _metadata(dispute)):
        return S.IGNORED, "Belongs to another organisation."
    amount = _amount(dispute)
    currency = str(dispute.get("currency", "")).upper()
    payment = _payment_for_intent(dispute.get("payment_intent"))
    if payment is None:
        if not dispute.get("payment_intent"):
            return S.IGNORED, "Not a Spotter payment (no payment intent)."
        return S.WAITING, f"Dispute of {amount} {currency} before its payment: kept."
    return S.ATTENTION, (
        f"Disputed at Stripe ({dispute.get('status', '')}, {dispute.get('reason', '')}): "
        f"{amount} {currency} of payment {payment.pk}."
    )


# --- events that arrived before their payment ------------------------------------------

# How long a refund or dispute waits for its payment before staff are asked to look.
# Reconciliation records a missed payment well within this (it runs every 3 hours).
PENDING_EVENT_WAIT = timedelta(hours=24)
# What is kept of a waiting event's object: enough to apply it, never card details.
_KEPT_FIELDS = (
    "id",
    "object",
    "amount",
    "amount_refunded",
    "currency",
    "payment_intent",
    "charge",
    "status",
    "reason",
    "failure_reason",
    "refunded",
)


def _kept(obj: dict) -> dict:
    kept = {key: obj[key] for key in _KEPT_FIELDS if key in obj}
    kept["metadata"] = {
        key: str(value)[:255]
        for key, value in _metadata(obj).items()
        if str(key).startswith("spotter_")
    }
    return kept


def _wait_for_payment(organisation_id: int, account: str, event: dict, obj: dict, outcome):
    """Keep a refund or dispute event whose payment is not recorded yet (in the
    transaction that claims it, so it is as durable as the ledger row)."""
    amount_field = "amount_refunded" if obj.get("object") == "charge" else "amount"
    StripePendingEvent.objects.create(
        organisation_id=organisation_id,
        account=account,
        event_id=event["id"],
        type=event["type"][:100],
        object_id=str(obj.get("id", ""))[:255],
        payment_intent=str(obj.get("payment_intent"))[:255],
        amount=_amount(obj, amount_field),
        currency=str(obj.get("currency", "")).upper()[:3],
        data=_kept(obj),
        stripe_created=_stripe_time(event["created"]),
        outcome=str(outcome)[:255],
        resolve_by=timezone.now() + PENDING_EVENT_WAIT,
    )


def _apply_waiting(organisation_id: int, intent_id: str) -> int:
    """Apply the events that waited for this payment intent, now that its payment is
    recorded (inside the caller's transaction); returns how many."""
    waiting = list(
        StripePendingEvent.objects.select_for_update(skip_locked=True)
        .filter(payment_intent=intent_id, status=StripePendingEvent.Status.WAITING)
        .order_by("stripe_created", "pk")
    )
    # (one query when nothing waits: the usual case on every payment's webhook)
    if not waiting or _payment_for_intent(intent_id) is None:
        return 0
    applied = 0
    for pending in waiting:
        event = {
            "id": pending.event_id,
            "type": pending.type,
            "created": int(pending.stripe_created.timestamp()),
            "data": {"object": pending.data},
        }
        status, outcome = HANDLERS[pending.type](organisation_id, event, pending.data)
        if status == S.WAITING:  # cannot happen once the payment exists; never lose it
            continue
        outcome = f"Applied after its payment: {outcome}"[:255]
        StripePendingEvent.objects.filter(pk=pending.pk).update(
            status=(
                StripePendingEvent.Status.ATTENTION
                if status == S.ATTENTION
                else StripePendingEvent.Status.APPLIED
            ),
            outcome=outcome,
            resolved_at=timezone.now(),
        )
        StripeEvent.objects.filter(account=pending.account, event_id=pending.event_id).update(
            status=status, outcome=outcome
        )
        applied += 1
    return applied


def stripe_pending_events_resolve(*, organisation_id: int, now=None) -> dict:
    """For one gym: apply the waiting events whose payment is recorded by now (a
    payment recorded without its webhook, e.g. by the off-session fast path), and
    raise for staff those whose payment never appeared in ``PENDING_EVENT_WAIT``."""
    now = now or timezone.now()
    applied = flagged = 0
    with tenant_scope(organisation_id):
        intents = list(
            StripePendingEvent.objects.filter(status=StripePendingEvent.Status.WAITING)
            .values_list("payment_intent", flat=True)
            .distinct()
        )
        for intent_id in intents:
            with transaction.atomic():
                _serialise(f"stripe:{intent_id}")
                applied += _apply_waiting(organisation_id, intent_id)
        overdue = StripePendingEvent.objects.filter(
            status=StripePendingEvent.Status.WAITING, resolve_by__lte=now
        )
        for pending in overdue:
            with transaction.atomic():
                outcome = (
                    f"{pending.amount} {pending.currency} ({pending.type}) for "
                    f"{pending.payment_intent}, a payment Spotter never recorded: check it "
                    "in the Stripe dashboard."
                )[:255]
                if not StripePendingEvent.objects.filter(
                    pk=pending.pk, status=StripePendingEvent.Status.WAITING
                ).update(
                    status=StripePendingEvent.Status.ATTENTION,
                    outcome=outcome,
                    resolved_at=now,
                ):
                    continue
                StripeEvent.objects.filter(
                    account=pending.account, event_id=pending.event_id
                ).update(status=S.ATTENTION, outcome=outcome)
                flagged += 1
    if flagged:
        logger.warning(
            "stripe events never matched a payment",
            extra={"organisation": organisation_id, "flagged": flagged},
        )
    return {"applied": applied, "flagged": flagged}


HANDLERS = {
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "payment_intent.canceled": _on_intent_failed,
    "payment_intent.created": _on_intent_progress,
    "payment_intent.processing": _on_intent_progress,
    "payment_intent.requires_action": _on_intent_progress,
    "checkout.session.completed": _on_checkout_completed,
    "checkout.session.async_payment_succeeded": _on_checkout_completed,
    "payment_method.detached": _on_payment_method_detached,
    "refund.created": _on_refund,
    "refund.updated": _on_refund,
    "refund.failed": _on_refund,
    "charge.refund.updated": _on_refund,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "charge.dispute.funds_withdrawn": _on_dispute,
}

# What to subscribe to in the Stripe dashboard (docs/stripe.md lists the same).
SUBSCRIBED_EVENTS = tuple(sorted(HANDLERS))

__all__ = [
    "SUBSCRIBED_EVENTS",
    "EventOutcome",
    "WebhookRejected",
    "event_apply",
    "stripe_pending_events_resolve",
    "webhook_receive",
]
