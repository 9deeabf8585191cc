from decimal import Decimal

import pytest

from billing.models import CreditNote, Invoice, Payment, Refund
from billing.services import (
    InvoiceLineSpec,
    _paid_handlers,
    credit_note_issue,
    invoice_issue,
    invoice_paid_handler,
    payment_record,
    refund_create,
)
from gymsite.errors import ServiceError
from gymsite.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(in_gym, branch, payer):
    return invoice_issue(
        payer=payer,
        branch=branch,
        lines=[
            InvoiceLineSpec(
                description="Annual",
                quantity=1,
                unit_price=Decimal("100"),
                source_type="tests.thing",
                source_id="1",
            )
        ],
    )


def test_partial_then_full_refund_with_credit_notes(invoice, manager):
    payment = payment_record(invoice=invoice, amount=Decimal("120.00"))
    # when: a partial refund at the desk
    first = refund_create(
        payment=payment, amount=Decimal("20.00"), reason="Spa closed", actor=manager
    )
    # then: refunded at once (in person), documented by a numbered credit note
    assert first.status == Refund.Status.SUCCEEDED
    assert first.credit_note.number == 1 and first.credit_note.amount == Decimal("20.00")
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.amount_refunded == Decimal("20.00") and payment.refundable == Decimal("100.00")
    assert invoice.amount_refunded == Decimal("20.00")
    assert invoice.status == Invoice.Status.PAID
    assert OutboxMessage.objects.filter(dedupe_key=f"refund-{first.pk}").exists()
    # and the rest
    second = refund_create(payment=payment, amount=Decimal("100.00"), reason="Moved away")
    assert second.credit_note.number == 2
    payment.refresh_from_db()
    assert payment.refundable == 0


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Decimal("0"), "invalid_amount"),
        (Decimal("-1"), "invalid_amount"),
        (Decimal("120.01"), "refund_too_large"),
    ],
)
def test_bad_refunds_change_nothing(invoice, amount, code):
    payment = payment_record(invoice=invoice, amount=Decimal("120.00"))
    with pytest.raises(ServiceError) as error:
        refund_create(payment=payment, amount=amount, reason="x")
    assert error.value.code == code
    assert not Refund.objects.exists() and not CreditNote.objects.exists()
    payment.refresh_from_db()
    assert payment.amount_refunded == 0


def test_refund_needs_a_reason(invoice):
    payment = payment_record(invoice=invoice, amount=Decimal("120.00"))
    with pytest.raises(ServiceError) as error:
        refund_create(payment=payment, amount=Decimal("1"), reason=" ")
    assert error.value.field == "reason"


def test_online_refund_goes_through_the_outbox(invoice):
    payment = payment_record(
        invoice=invoice, amount=Decimal("120.00"), provider="sandbox", reference="ch_x"
    )
    refund = refund_create(payment=payment, amount=Decimal("50"), reason="Goodwill")
    # the eager outbox delivery in tests calls the provider after commit; here the
    # transaction is the test's, so the message is recorded and pending
    assert refund.status == Refund.Status.PENDING
    message = OutboxMessage.objects.get(kind="billing.refund")
    from billing.services import _deliver_refund

    _deliver_refund(message)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and refund.reference.startswith("re_")


def test_credit_note_reduces_due_and_settles_invoice(invoice):
    calls = []

    @invoice_paid_handler("tests.thing")
    def on_paid(*, invoice, line):
        calls.append(line.source_id)

    try:
        credit_note_issue(invoice=invoice, amount=Decimal("20.00"), reason="Goodwill")
        invoice.refresh_from_db()
        assert invoice.amount_due == Decimal("100.00") and invoice.status == Invoice.Status.OPEN
        payment_record(invoice=invoice, amount=Decimal("50.00"))
        credit_note_issue(invoice=invoice, amount=Decimal("50.00"), reason="Comp")
    finally:
        _paid_handlers.pop("tests.thing", None)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert calls == ["1"]
    with pytest.raises(ServiceError) as error:
        credit_note_issue(invoice=invoice, amount=Decimal("1.00"), reason="x")
    assert error.value.code == "invoice_already_paid"


def test_credit_more_than_due_is_refused(invoice):
    with pytest.raises(ServiceError) as error:
        credit_note_issue(invoice=invoice, amount=Decimal("500"), reason="x")
    assert error.value.code == "overpayment"
    assert not CreditNote.objects.exists()
    assert Payment.objects.count() == 0
