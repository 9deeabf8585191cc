"""Automatic collection through the provider interface: attempts, idempotency keys,
decline codes, leases, duplicate charges, and the providers themselves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, Payment, Refund
from billing.providers import ChargeResult, ProviderError, get_provider
from billing.services import (
    COLLECTION_LEASE,
    InvoiceLineSpec,
    invoice_charge,
    invoice_collect,
    invoice_collection_prepare,
    invoice_issue,
    payment_attempt_complete,
    payment_method_save,
    payment_record,
)
from billing.tests.factories import PaymentMethodFactory
from gymsite.errors import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(in_gym, branch, payer):
    return invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="Monthly", quantity=1, unit_price=Decimal("40"))],
    )


def test_success_records_reference_and_key(invoice, payer):
    PaymentMethodFactory(member=payer)
    payment = invoice_collect(invoice=invoice)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.idempotency_key == f"invoice-{invoice.pk}-attempt-1"
    assert payment.reference.startswith("ch_")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_decline_code_is_recorded_and_retry_uses_a_new_key(invoice, payer):
    PaymentMethodFactory(member=payer, method_reference="pm_decline_expired_card")
    first = invoice_collect(invoice=invoice)
    assert (first.status, first.failure_code) == (Payment.Status.FAILED, "expired_card")
    invoice.refresh_from_db()
    second = invoice_collect(invoice=invoice, now=invoice.next_collection_at)
    assert second.idempotency_key == f"invoice-{invoice.pk}-attempt-2"


def test_a_running_attempt_is_not_charged_twice(invoice, payer):
    PaymentMethodFactory(member=payer)
    prepared = invoice_collection_prepare(invoice=invoice)
    # another worker arrives while the first is talking to the provider
    assert invoice_collect(invoice=invoice) is None
    # after the lease (a crash), the same attempt is sent again with the same key
    later = timezone.now() + COLLECTION_LEASE + timedelta(minutes=1)
    retried = invoice_collection_prepare(invoice=invoice, now=later)
    assert retried.pk == prepared.pk
    done = invoice_charge(payment=retried, invoice=invoice)
    assert done.status == Payment.Status.SUCCEEDED
    assert Payment.objects.count() == 1


def test_completing_twice_is_harmless(invoice, payer):
    method = PaymentMethodFactory(member=payer)
    payment = invoice_collection_prepare(invoice=invoice)
    result = get_provider(invoice.branch.organisation, "sandbox").charge(
        amount=payment.amount,
        currency="GBP",
        payment_method=method,
        idempotency_key=payment.idempotency_key,
        description="x",
        metadata={},
    )
    payment_attempt_complete(payment=payment, result=result)
    payment_attempt_complete(payment=payment, result=result)
    invoice.refresh_from_db()
    assert invoice.amount_paid == Decimal("48.00")


def test_charge_landing_after_desk_payment_is_refunded(invoice, payer):
    PaymentMethodFactory(member=payer)
    payment = invoice_collection_prepare(invoice=invoice)
    payment_record(invoice=invoice, amount=Decimal("48.00"))  # paid at the desk meanwhile
    payment_attempt_complete(
        payment=payment, result=ChargeResult(succeeded=True, reference="ch_late")
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Refund.objects.get(payment=payment).amount == Decimal("48.00")


def test_no_saved_method_is_a_recorded_failure(invoice):
    payment = invoice_collect(invoice=invoice)
    assert payment.failure_code == "no_payment_method"


def test_manual_provider_cannot_charge_off_session(gym):
    provider = get_provider(gym, "manual")
    assert provider.in_person and not provider.supports_off_session
    result = provider.charge(
        amount=Decimal("1"),
        currency="GBP",
        payment_method=None,
        idempotency_key="k",
        description="",
        metadata={},
    )
    assert not result.succeeded
    with pytest.raises(ProviderError):
        provider.checkout_session(invoice=None, payer=None, success_url="", cancel_url="")
    with pytest.raises(ProviderError):
        get_provider(gym, "nope")


def test_sandbox_is_disabled_outside_development(gym, settings):
    settings.BILLING_SANDBOX_ENABLED = False
    with pytest.raises(ProviderError):
        get_provider(gym, "sandbox")


def test_saving_a_payment_method_keeps_one_default(in_gym, payer):
    first = payment_method_save(
        member=payer, provider="sandbox", method_reference="pm_1", last4="4242"
    )
    second = payment_method_save(
        member=payer, provider="sandbox", method_reference="pm_2", last4="1881"
    )
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    with pytest.raises(ServiceError):
        payment_method_save(member=payer, provider="sandbox", method_reference="pm_3", last4="12")
