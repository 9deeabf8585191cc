"""Money moves once: two dunning sweeps at the same time, a stale attempt taken over,
and a holder that lost its lease, against Stripe's API answered at the HTTP boundary."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

import billing.stripe.client as stripe_client
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.models import Invoice, Payment
from billing.services import (
    COLLECTION_LEASE,
    InvoiceLineSpec,
    dunning_retry_days,
    invoice_charge,
    invoice_collection_prepare,
    invoice_issue,
    invoices_collect_due,
)
from billing.tests.factories import PaymentMethodFactory
from billing.tests.stripe_factories import FakeStripeHTTP, StripeAccountFactory, card_error
from gymsite.models import OutboxMessage

INVOICES = 30
INTENTS = ("POST", "/v1/payment_intents")


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripeHTTP()
    monkeypatch.setattr(stripe_client, "HTTP_CLIENT", fake)
    monkeypatch.setattr(stripe_client, "MAX_NETWORK_RETRIES", 0)
    return fake


def _slow_decline(seconds: float):
    def answer(params, headers):
        time.sleep(seconds)  # long enough for the other sweep to reach the same invoice
        return card_error("insufficient_funds")

    return answer


def _keys_sent(fake) -> list[str]:
    return [h["Idempotency-Key"] for m, p, _params, h in fake.requests if (m, p) == INTENTS]


def _invoices_in_dunning(gym, branch, count: int, *, due_at) -> list[Invoice]:
    """Open invoices whose first charge was declined and whose retry is now due."""
    StripeAccountFactory(organisation=gym)
    invoices = []
    with tenant_scope(gym):
        for index in range(count):
            payer = MemberFactory(home_branch=branch, email=f"payer{index}@example.com")
            PaymentMethodFactory(
                member=payer,
                provider="stripe",
                customer_reference=f"cus_{index}",
                method_reference=f"pm_{index}",
            )
            invoices.append(
                invoice_issue(
                    payer=payer,
                    branch=branch,
                    lines=[InvoiceLineSpec(description="Monthly", quantity=1, unit_price=40)],
                    notify=False,
                )
            )
        Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
            collection_attempts=1, next_collection_at=due_at
        )
    return invoices


def _run_at_once(count: int, target) -> list[Exception]:
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def run(index):
        try:
            barrier.wait()
            target(index)
        except Exception as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_charge_each_due_invoice_once(gym, branch, fake_stripe):
    # given: 30 invoices in dunning, their second attempt due, every card still declining
    fake_stripe.routes[INTENTS] = _slow_decline(0.01)
    start = timezone.now()
    invoices = _invoices_in_dunning(gym, branch, INVOICES, due_at=start - timedelta(minutes=1))
    attempted = []

    def sweep(_index):
        with tenant_scope(gym):
            attempted.append(invoices_collect_due())

    # when: two beat instances (or a slow sweep and the next) run the sweep together
    errors = _run_at_once(2, sweep)
    # then: each invoice was charged once, with its second attempt's key
    assert errors == []
    assert sum(attempted) == INVOICES
    keys = _keys_sent(fake_stripe)
    assert sorted(keys) == sorted(f"spotter-invoice-{i.pk}-attempt-2" for i in invoices)
    retry = timedelta(days=dunning_retry_days()[1])
    with tenant_scope(gym):
        for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices]):
            # the 3-day retry is kept, counted from this round
            assert invoice.collection_attempts == 2
            assert start + retry <= invoice.next_collection_at <= timezone.now() + retry
            assert invoice.collection_lease_until is None
        assert Payment.objects.count() == INVOICES
        assert set(Payment.objects.values_list("status", flat=True)) == {Payment.Status.FAILED}
        emails = OutboxMessage.objects.filter(dedupe_key__startswith="payment-failed-")
        assert emails.count() == INVOICES  # one "payment failed" email each


@pytest.mark.django_db(transaction=True)
def test_sweeps_that_keep_coming_do_not_charge_before_the_retry(gym, branch, fake_stripe):
    # given: one round is done (every card declined, retries scheduled)
    fake_stripe.routes[INTENTS] = _slow_decline(0)
    _invoices_in_dunning(gym, branch, 5, due_at=timezone.now() - timedelta(minutes=1))
    with tenant_scope(gym):
        assert invoices_collect_due() == 5
        # when: the next sweeps come round before the retry is due
        assert invoices_collect_due() == 0
        assert invoices_collect_due(now=timezone.now() + timedelta(days=2)) == 0
    # then: nothing more was charged
    assert len(_keys_sent(fake_stripe)) == 5


@pytest.fixture
def stale_attempt(gym, branch, fake_stripe):
    """An invoice whose charge attempt was recorded by a worker that then died."""
    [invoice] = _invoices_in_dunning(gym, branch, 1, due_at=timezone.now() - timedelta(minutes=1))
    with tenant_scope(gym):
        pending = invoice_collection_prepare(invoice=invoice, scheduled=True)
    assert pending is not None and pending.status == Payment.Status.PENDING
    return invoice, pending


@pytest.mark.django_db(transaction=True)
def test_a_stale_attempt_is_taken_over_exactly_once(gym, stale_attempt, fake_stripe):
    # given: the dead worker's lease has run out; Stripe is slow to answer
    invoice, pending = stale_attempt
    fake_stripe.routes[INTENTS] = _slow_decline(0.5)
    later = timezone.now() + COLLECTION_LEASE + timedelta(minutes=1)

    def sweep(index):
        if index == 2:
            time.sleep(0.2)  # arrives while the first is still waiting on Stripe
        with tenant_scope(gym):
            invoices_collect_due(now=later)

    # when: two sweeps find it at once (and a third while the first waits on Stripe)
    errors = _run_at_once(3, sweep)
    # then: one of them took it over, and asked Stripe once, with the attempt's own key
    assert errors == []
    assert _keys_sent(fake_stripe) == [f"spotter-{pending.idempotency_key}"]
    with tenant_scope(gym):
        [payment] = Payment.objects.all()
        invoice.refresh_from_db()
    assert payment.pk == pending.pk
    assert payment.takeovers == 1 and payment.taken_over_at is not None
    assert payment.status == Payment.Status.FAILED
    assert invoice.collection_attempts == 2


@pytest.mark.django_db
def test_a_worker_whose_attempt_was_taken_over_does_not_charge(gym, stale_attempt, fake_stripe):
    # given: a slow worker's lease ran out and another worker took the attempt over
    invoice, slow = stale_attempt
    fake_stripe.routes[INTENTS] = _slow_decline(0)
    later = timezone.now() + COLLECTION_LEASE + timedelta(minutes=1)
    with tenant_scope(gym):
        taken = invoice_collection_prepare(invoice=invoice, now=later, scheduled=True)
        assert taken.pk == slow.pk
        # when: the slow worker wakes up and goes on with its charge
        invoice_charge(payment=slow, invoice=invoice)
        # then: its lease is gone: it does not ask Stripe
        assert _keys_sent(fake_stripe) == []
        # and the worker that took over charges once, with the same key
        invoice_charge(payment=taken, invoice=invoice, now=later)
    assert _keys_sent(fake_stripe) == [f"spotter-{slow.idempotency_key}"]


@pytest.mark.django_db
def test_a_holder_renews_its_lease_before_asking_the_provider(gym, stale_attempt, fake_stripe):
    # given: a worker prepared an attempt and is about to charge it
    invoice, pending = stale_attempt
    fake_stripe.routes[INTENTS] = _slow_decline(0)
    with tenant_scope(gym):
        before = Invoice.objects.get(pk=invoice.pk).collection_lease_until
        # when
        invoice_charge(payment=pending, invoice=invoice)
        invoice.refresh_from_db()
    # then: it was charged once; the lease it renewed ended with the attempt
    assert before is not None
    assert _keys_sent(fake_stripe) == [f"spotter-{pending.idempotency_key}"]
    assert invoice.collection_lease_until is None


@pytest.mark.django_db
def test_paying_now_does_not_wait_for_the_retry_but_never_doubles_an_attempt(
    in_gym, gym, branch, fake_stripe
):
    # given: a declined invoice whose retry is in three days
    fake_stripe.routes[INTENTS] = _slow_decline(0)
    [invoice] = _invoices_in_dunning(gym, branch, 1, due_at=timezone.now() + timedelta(days=3))
    # when: the member pays now (twice: a double click), and the sweep comes round
    first = invoice_collection_prepare(invoice=invoice)
    second = invoice_collection_prepare(invoice=invoice)
    swept = invoices_collect_due()
    # then: one attempt, charged once
    assert first is not None and second is None and swept == 0
    invoice_charge(payment=first, invoice=invoice)
    assert len(_keys_sent(fake_stripe)) == 1


@pytest.mark.django_db
def test_sandbox_answers_the_same_key_with_the_same_charge(in_gym, gym, branch):
    from billing.providers import get_provider

    method = PaymentMethodFactory(member=MemberFactory(home_branch=branch))
    sandbox = get_provider(gym, "sandbox")

    def charge(key):
        return sandbox.charge(
            amount=Decimal("48.00"),
            currency="GBP",
            payment_method=method,
            idempotency_key=key,
            description="INV",
            metadata={},
        )

    assert charge("invoice-1-attempt-1").reference == charge("invoice-1-attempt-1").reference
    assert charge("invoice-1-attempt-1").reference != charge("invoice-1-attempt-2").reference
