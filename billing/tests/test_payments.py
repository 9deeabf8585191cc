from decimal import Decimal

import pytest

from billing.models import Invoice, Payment
from billing.services import (
    InvoiceLineSpec,
    _paid_handlers,
    invoice_issue,
    invoice_paid_handler,
    payment_record,
)
from gymsite.errors import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(in_gym, branch, payer):
    return invoice_issue(
        payer=payer,
        branch=branch,
        lines=[
            InvoiceLineSpec(
                description="Shake",
                quantity=1,
                unit_price=Decimal("50.00"),
                source_type="tests.order",
                source_id="7",
            )
        ],
    )


@pytest.fixture
def paid_calls():
    calls = []

    @invoice_paid_handler("tests.order")
    def on_paid(*, invoice, line):
        calls.append((invoice.pk, line.source_id, invoice.status))

    yield calls
    _paid_handlers.pop("tests.order", None)


def test_full_manual_payment_pays_invoice_and_runs_handler(invoice, front_desk, paid_calls):
    # when: the front desk takes the whole 60.00 (50 + 20% tax)
    payment = payment_record(invoice=invoice, amount=Decimal("60.00"), actor=front_desk)
    # then
    invoice.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.provider == "manual"
    assert invoice.status == Invoice.Status.PAID
    assert invoice.paid_at is not None
    assert invoice.amount_due == 0
    assert paid_calls == [(invoice.pk, "7", Invoice.Status.PAID)]


def test_partial_payments_pay_when_complete(invoice, paid_calls):
    payment_record(invoice=invoice, amount=Decimal("20.00"))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_due == Decimal("40.00")
    assert paid_calls == []
    payment_record(invoice=invoice, amount=Decimal("40.00"))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert len(paid_calls) == 1


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("-5"), "invalid_amount"),
        (Decimal("0"), "invalid_amount"),
        (Decimal("60.01"), "overpayment"),
        (Decimal("1.001"), "invalid_amount"),
        ("ten", "invalid_amount"),
    ],
)
def test_bad_amounts_are_refused_and_change_nothing(invoice, amount, code):
    with pytest.raises(ServiceError) as error:
        payment_record(invoice=invoice, amount=amount)
    assert error.value.code == code
    assert error.value.field == "amount"
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0
    assert Payment.objects.count() == 0


def test_paying_a_paid_invoice_is_refused(invoice):
    payment_record(invoice=invoice, amount=Decimal("60.00"))
    with pytest.raises(ServiceError) as error:
        payment_record(invoice=invoice, amount=Decimal("1.00"))
    assert error.value.code == "invoice_already_paid"
    assert error.value.status_code == 409
    assert Payment.objects.count() == 1


def test_unknown_provider_is_refused(invoice):
    with pytest.raises(ServiceError) as error:
        payment_record(invoice=invoice, amount=Decimal("60.00"), provider="bitcoin")
    assert error.value.field == "provider"
    assert Payment.objects.count() == 0


def test_same_provider_reference_is_recorded_once(invoice, paid_calls):
    # given: a provider confirming the same charge twice (a repeated webhook)
    first = payment_record(
        invoice=invoice, amount=Decimal("60.00"), provider="sandbox", reference="ch_1"
    )
    again = payment_record(
        invoice=invoice, amount=Decimal("60.00"), provider="sandbox", reference="ch_1"
    )
    assert first.pk == again.pk
    assert Payment.objects.count() == 1
    assert len(paid_calls) == 1


def test_failing_handler_rolls_the_payment_back(invoice):
    @invoice_paid_handler("tests.order")
    def broken(*, invoice, line):
        raise ServiceError("Out of stock", code="out_of_stock")

    try:
        with pytest.raises(ServiceError):
            payment_record(invoice=invoice, amount=Decimal("60.00"))
    finally:
        _paid_handlers.pop("tests.order", None)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.amount_paid == 0
    assert Payment.objects.count() == 0


def test_handler_lock_hook_runs_before_the_invoice_lock(invoice):
    order = []

    @invoice_paid_handler("tests.order", lock=lambda ids: order.append(("lock", ids)))
    def on_paid(*, invoice, line):
        order.append(("paid", line.source_id))

    try:
        payment_record(invoice=invoice, amount=Decimal("60.00"))
    finally:
        _paid_handlers.pop("tests.order", None)
    assert order == [("lock", ["7"]), ("paid", "7")]
