"""The durable outbox: every side effect that leaves the process goes through it.

``outbox_enqueue`` writes a row inside the caller's transaction and, after commit,
asks Celery to deliver it. If the broker is down the row simply waits: the
``outbox_relay`` beat task sweeps due rows every minute. A row is claimed with a
lease (``SELECT ... FOR UPDATE SKIP LOCKED`` and a ``claimed_until`` stamp) before
it is delivered, so two relays or a relay and a worker never send it twice, and
no network call is made while a row lock is held.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from email.utils import make_msgid
from functools import cache, partial

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError

from gymsite.models import OutboxMessage

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
Handler = Callable[[OutboxMessage], None]
_handlers: dict[str, Handler] = {}


def outbox_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of one kind."""

    def register(func: Handler) -> Handler:
        _handlers[kind] = func
        return func

    return register


def outbox_enqueue(
    *,
    kind: str,
    payload: dict,
    organisation_id: int | None = None,
    dedupe_key: str | None = None,
    deliver_after=None,
) -> OutboxMessage | None:
    """Record a side effect in the current transaction; deliver it after commit.

    With a ``dedupe_key`` the same effect is recorded once, however often it is
    asked for (returns None for a repeat).
    """
    message = outbox_message(
        kind=kind,
        payload=payload,
        organisation_id=organisation_id,
        dedupe_key=dedupe_key,
        deliver_after=deliver_after,
    )
    return outbox_record(message, dispatch=deliver_after is None)


def outbox_record(message: OutboxMessage, *, dispatch: bool = True) -> OutboxMessage | None:
    """Write a built message (``outbox_message``, ``email_message``) in the current
    transaction and, with ``dispatch``, ask a worker to deliver it after commit.
    Returns None for a repeat of a ``dedupe_key`` already recorded."""
    if message.dedupe_key is None:
        message.save(force_insert=True)
    elif not _insert_unless_recorded(message):
        return None
    if dispatch:
        dispatch_on_commit(message.pk)
    return message


def outbox_message(
    *,
    kind: str,
    payload: dict,
    organisation_id: int | None = None,
    dedupe_key: str | None = None,
    deliver_after=None,
) -> OutboxMessage:
    """An unsaved message, for ``outbox_record`` or for a caller that writes it in a
    larger statement of its own (``message_insert_sql``)."""
    if kind not in _handlers:
        raise ValueError(f"No outbox handler for {kind!r}")
    return OutboxMessage(
        organisation_id=organisation_id,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
        next_attempt_at=deliver_after or timezone.now(),
    )


@cache
def message_insert_sql(*, source: str = "") -> str:
    """``INSERT ... ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` for one message,
    with ``message_insert_params(message)``.

    ``source`` (e.g. ``"FROM booking"``) makes the row conditional on a CTE of the
    caller's statement: the message is written only if that CTE returned a row, in
    the same statement, hence the same transaction, as the change it reports.
    """
    return f"""
        INSERT INTO {OutboxMessage._meta.db_table}
            (organisation_id, kind, payload, dedupe_key, status, attempts,
             next_attempt_at, last_error, created_at)
        SELECT %s, %s, %s::jsonb, %s, %s, 0, %s, '', %s {source}
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
    """  # table name from the model, values are parameters


def message_insert_params(message: OutboxMessage) -> list:
    return [
        message.organisation_id,
        message.kind,
        json.dumps(message.payload, cls=DjangoJSONEncoder),
        message.dedupe_key,
        message.status,
        message.next_attempt_at,
        message.created_at,
    ]


def _insert_unless_recorded(message: OutboxMessage) -> bool:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING: the unique key decides, in one
    statement (no look-up first, no savepoint), so two concurrent callers cannot
    both record the same effect. Returns whether this call recorded it."""
    with connection.cursor() as cursor:
        cursor.execute(message_insert_sql(), message_insert_params(message))
        row = cursor.fetchone()
    if row is None:
        return False
    message.pk = row[0]
    message._state.adding = False
    return True


def dispatch_on_commit(message_id: int) -> None:
    """Ask a worker to deliver a recorded message once the transaction commits (at
    once outside a transaction); the relay's sweep is the safety net."""
    transaction.on_commit(partial(_dispatch, message_id))


# After a failed publish, this process leaves dispatching to the relay for a few
# seconds: a request queuing five emails pays for one failed attempt, not five.
BROKER_RETRY_SECONDS = 5.0
_broker_down_until = 0.0


def broker_circuit_reset() -> None:
    """Forget a failed publish (tests, or a caller that knows the broker is back)."""
    global _broker_down_until
    _broker_down_until = 0.0


def _dispatch(message_id: int) -> None:
    from gymsite.tasks import outbox_deliver

    global _broker_down_until
    if _broker_down_until > time.monotonic():
        logger.info("outbox dispatch deferred to the relay", extra={"message_id": message_id})
        return
    try:
        outbox_deliver.apply_async((message_id,), retry=False)
    except (BrokerError, OSError):
        # The broker is unreachable: the row is safe in the database and the
        # relay will deliver it on its next sweep.
        _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
        logger.warning(
            "outbox dispatch deferred to the relay: broker unreachable",
            extra={"message_id": message_id},
            exc_info=True,
        )
    except Exception:
        # Anything else (a task run eagerly that failed) is no reason to stop
        # dispatching; the row still waits for the relay.
        logger.exception("outbox dispatch deferred to the relay", extra={"message_id": message_id})


def _claim(filters: Q, limit: int) -> list[int]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.filter(filters, status=OutboxMessage.Status.PENDING)
            .filter(next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OutboxMessage.objects.filter(pk__in=ids).update(
                claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1
            )
    return ids


def _deliver_claimed(message_id: int) -> bool:
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        _handlers[message.kind](message)
    except Exception as exc:
        logger.exception("outbox delivery failed", extra={"message_id": message_id})
        give_up = message.attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message_id).update(
            status=OutboxMessage.Status.FAILED if give_up else OutboxMessage.Status.PENDING,
            claimed_until=None,
            last_error=repr(exc)[:2000],
            next_attempt_at=timezone.now() + timedelta(minutes=2 ** min(message.attempts, 10)),
        )
        return False
    OutboxMessage.objects.filter(pk=message_id).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), claimed_until=None
    )
    return True


def outbox_deliver(*, message_id: int) -> bool:
    """Deliver one message now, unless someone else holds it or it is already sent."""
    claimed = _claim(Q(pk=message_id), limit=1)
    return bool(claimed) and _deliver_claimed(claimed[0])


def outbox_relay(*, limit: int = 200) -> int:
    """Deliver every due message; returns how many were sent."""
    sent = 0
    for message_id in _claim(Q(), limit=limit):
        sent += _deliver_claimed(message_id)
    return sent


# --- email ---------------------------------------------------------------------


def email_enqueue(
    *,
    to: list[str] | str,
    template: str,
    context: dict,
    organisation_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Render ``emails/<template>_subject.txt`` and ``emails/<template>.txt`` now, and
    queue the email for delivery after commit."""
    return outbox_record(
        email_message(
            to=to,
            template=template,
            context=context,
            organisation_id=organisation_id,
            dedupe_key=dedupe_key,
        )
    )


def email_message(
    *,
    to: list[str] | str,
    template: str,
    context: dict,
    organisation_id: int | None = None,
    dedupe_key: str | None = None,
    render_at_delivery: bool = False,
) -> OutboxMessage:
    """An unsaved email message (see ``outbox_message``), rendered now.

    With ``render_at_delivery`` the message keeps the template, the context (plain
    JSON values only) and the active language, and the worker renders it: the hot
    paths (booking a class) do not pay for template rendering in the request.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    if render_at_delivery:
        json.dumps(context)  # plain values only: a date would render differently later
        payload = {
            "to": recipients,
            "template": template,
            "context": context,
            "language": translation.get_language(),
            "organisation_id": organisation_id,
        }
    else:
        payload = {"to": recipients, **_render_email(template, context, organisation_id)}
    return outbox_message(
        kind="email", payload=payload, organisation_id=organisation_id, dedupe_key=dedupe_key
    )


# The gym an email comes from (name, colours, logo) for its header: accounts provides
# it in its AppConfig.ready(), so this module needs no knowledge of organisations.
_email_branding: Callable[[int], dict] | None = None


def email_branding(provider: Callable[[int], dict]) -> Callable[[int], dict]:
    global _email_branding
    _email_branding = provider
    return provider


def _render_email(template: str, context: dict, organisation_id: int | None = None) -> dict:
    brand = _email_branding(organisation_id) if _email_branding and organisation_id else {}
    context = {"site_url": settings.SITE_URL, "brand": brand, **context}
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    content = render_to_string(f"emails/{template}.txt", context)
    rendered = {
        "subject": subject,
        "body": render_to_string("emails/_layout.txt", {**context, "content": content}),
    }
    if brand:
        rendered["html"] = render_to_string("emails/_layout.html", {**context, "content": content})
    return rendered


def rendered_email(payload: dict) -> dict[str, str]:
    """The subject, body (and HTML, when branded) of an email message's payload,
    rendering it if needed."""
    if "template" not in payload:
        return {
            key: payload[key] for key in ("subject", "body", "html") if payload.get(key) is not None
        }
    with translation.override(payload.get("language")):
        return _render_email(
            payload["template"], payload["context"], payload.get("organisation_id")
        )


@outbox_handler("email")
def deliver_email(message: OutboxMessage) -> None:
    payload = message.payload
    rendered = rendered_email(payload)
    html = rendered.pop("html", None)
    email = EmailMultiAlternatives(
        **rendered,
        to=payload["to"],
        # A stable Message-ID lets a mail server drop a copy sent again after a crash.
        headers={"Message-ID": make_msgid(idstring=f"outbox-{message.pk}", domain="spotter")},
    )
    if html:
        email.attach_alternative(html, "text/html")
    email.send()
