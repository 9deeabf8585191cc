"""Side effects are written to the outbox with the change and delivered exactly once."""

import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import translation

from accounts import services
from accounts.tenancy import tenant_scope
from gymsite import outbox
from gymsite.celery import app as celery_app
from gymsite.models import OutboxMessage


@pytest.fixture
def broker_down(settings):
    """Point Celery at a port where no broker listens, as when Redis has died."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = {
        key: celery_app.conf[key]
        for key in (
            "broker_url",
            "broker_transport_options",
            "task_always_eager",
            "broker_connection_retry",
            "broker_connection_timeout",
        )
    }
    celery_app.conf.update(
        broker_url="redis://127.0.0.1:1/0",
        broker_transport_options={},
        task_always_eager=False,
        broker_connection_retry=False,
        broker_connection_timeout=0.5,
    )
    _reset_broker_connections()
    yield
    celery_app.conf.update(saved)
    _reset_broker_connections()


def _reset_broker_connections():
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_change_commits_and_email_arrives_after_broker_outage(gym, branch, broker_down):
    # given: the broker is unreachable
    # when: a member registers (a change whose email must not be lost)
    with tenant_scope(gym):
        member = services.member_register(
            user=None,
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            home_branch=branch,
        )
    # then: the change committed and the email waits in the outbox
    message = OutboxMessage.objects.get(kind="email")
    assert message.status == OutboxMessage.Status.PENDING
    assert message.payload["to"] == ["ada@example.com"]
    assert member.pk and mail.outbox == []

    # when: the broker is back, the relay's sweep delivers it, once
    celery_app.conf.task_always_eager = True
    assert outbox.outbox_relay() == 1
    assert outbox.outbox_relay() == 0
    assert len(mail.outbox) == 1
    assert "Welcome" in mail.outbox[0].subject
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_sends_nothing(gym, branch):
    with pytest.raises(RuntimeError), transaction.atomic(), tenant_scope(gym):
        services.member_register(
            user=None, first_name="Ada", last_name="L", email="ada@example.com", home_branch=branch
        )
        raise RuntimeError("the change fails after the email was queued")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_delivered_after_commit_when_the_broker_is_up(gym, branch):
    with tenant_scope(gym):
        services.member_register(
            user=None, first_name="Ada", last_name="L", email="ada@example.com", home_branch=branch
        )
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def _queue_emails(count):
    with transaction.atomic():
        for n in range(count):
            outbox.outbox_enqueue(
                kind="email",
                payload={"to": [f"m{n}@example.com"], "subject": f"#{n}", "body": "hi"},
                deliver_after=outbox.timezone.now(),  # no dispatch: left for the relay
            )


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_send_each_message_once():
    # given: 60 due messages
    _queue_emails(60)
    barrier = threading.Barrier(4)
    sent = []

    def relay():
        try:
            barrier.wait()
            sent.append(outbox.outbox_relay(limit=25))
        finally:
            connection.close()

    # when: four relays run at the same moment
    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outbox.outbox_relay()

    # then: every message went out exactly once
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == sorted(f"#{n}" for n in range(60))
    assert OutboxMessage.objects.filter(status="sent").count() == 60


@pytest.mark.django_db
def test_claimed_message_is_not_sent_by_another_relay():
    _queue_emails(1)
    message = OutboxMessage.objects.get()
    # a first relay claimed it and is still sending
    assert outbox._claim(outbox.Q(pk=message.pk), limit=1) == [message.pk]
    assert outbox.outbox_relay() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_failed_delivery_is_retried_later_then_given_up(monkeypatch):
    _queue_emails(1)
    message = OutboxMessage.objects.get()

    def broken(_message):
        raise ConnectionError("SMTP down")

    monkeypatch.setitem(outbox._handlers, "email", broken)
    assert outbox.outbox_relay() == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.next_attempt_at > outbox.timezone.now()
    assert "SMTP down" in message.last_error

    OutboxMessage.objects.update(
        attempts=outbox.MAX_ATTEMPTS - 1, next_attempt_at=outbox.timezone.now()
    )
    outbox.outbox_relay()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED


@pytest.mark.django_db
def test_dedupe_key_records_an_effect_once():
    with transaction.atomic():
        first = outbox.outbox_enqueue(kind="email", payload={}, dedupe_key="reminder:1")
        second = outbox.outbox_enqueue(kind="email", payload={}, dedupe_key="reminder:1")
    assert first is not None and second is None
    assert OutboxMessage.objects.count() == 1


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        outbox.outbox_enqueue(kind="carrier-pigeon", payload={})


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_with_one_dedupe_key_record_it_once():
    barrier = threading.Barrier(8)
    recorded = []

    def enqueue():
        try:
            barrier.wait()
            with transaction.atomic():
                message = outbox.outbox_enqueue(
                    kind="email",
                    payload={"to": ["a@example.com"], "subject": "once", "body": "x"},
                    dedupe_key="reminder:once",
                    deliver_after=outbox.timezone.now(),
                )
            recorded.append(message is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=enqueue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorded.count(True) == 1
    assert OutboxMessage.objects.filter(dedupe_key="reminder:once").count() == 1


@pytest.mark.django_db
def test_email_rendered_at_delivery_in_the_language_of_the_request():
    # given an email queued while French was active, rendered only by the worker
    with translation.override("fr"):
        message = outbox.email_message(
            to="member@example.com",
            template="bookings/confirmed",
            context={
                "member_name": "Ada",
                "class_name": "Spin",
                "branch_name": "North",
                "starts_local": "Monday 7 December 2026, 07:00",
                "timezone": "Europe/London",
                "booking_id": 1,
                "status": "booked",
            },
            render_at_delivery=True,
        )
    message.save()
    assert "body" not in message.payload
    # when the relay delivers it (with English active)
    outbox.outbox_relay()
    # then it was rendered with its context, in French
    (sent,) = mail.outbox
    assert "Ada" in sent.body and "Spin" in sent.body
    with translation.override("fr"):
        assert sent.body == outbox.rendered_email(message.payload)["body"]
    assert message.payload["language"] == "fr"


def test_email_rendered_at_delivery_takes_plain_values_only():
    with pytest.raises(TypeError):
        outbox.email_message(
            to="member@example.com",
            template="bookings/confirmed",
            context={"when": object()},
            render_at_delivery=True,
        )
