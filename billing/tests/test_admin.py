from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice, Refund
from billing.services import InvoiceLineSpec, invoice_issue, payment_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(payer, branch, in_gym):
    return invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="PT session", quantity=1, unit_price=Decimal("50"))],
    )


def _action(client, model, action, ids, **data):
    return client.post(
        reverse(f"admin:billing_{model}_changelist"),
        {"action": action, "_selected_action": [str(i) for i in ids], **data},
    )


def test_invoice_pages(client_for, owner, invoice):
    client = client_for(owner)
    assert client.get(reverse("admin:billing_invoice_changelist")).status_code == 200
    for value in ("overdue", "dunning", "failed"):
        assert (
            client.get(
                reverse("admin:billing_invoice_changelist"), {"collection": value}
            ).status_code
            == 200
        )
    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200


def test_partial_then_full_payment_action(client_for, front_desk, invoice):
    client = client_for(front_desk)
    _action(client, "invoice", "record_payment", [invoice.pk], apply="1", amount="20.00")
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("40.00")
    _action(client, "invoice", "record_payment", [invoice.pk], apply="1", amount="")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_overpayment_is_reported_and_changes_nothing(client_for, front_desk, invoice):
    response = _action(
        client_for(front_desk), "invoice", "record_payment", [invoice.pk], apply="1", amount="99"
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_refund_action(client_for, manager, invoice):
    payment = payment_record(invoice=invoice, amount=Decimal("60.00"))
    _action(
        client_for(manager),
        "payment",
        "refund",
        [payment.pk],
        apply="1",
        amount="10",
        reason="Late",
    )
    refund = Refund.objects.get()
    assert refund.amount == Decimal("10.00") and refund.status == Refund.Status.SUCCEEDED


def test_void_and_credit_actions(client_for, owner, invoice):
    client = client_for(owner)
    _action(client, "invoice", "credit", [invoice.pk], apply="1", amount="10", reason="Goodwill")
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("50.00")
    _action(client, "invoice", "void", [invoice.pk], apply="1", reason="Wrong member")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID


def test_other_admin_pages_load(client_for, owner, invoice):
    client = client_for(owner)
    for model in ("payment", "refund", "creditnote", "pendingcharge", "paymentmethod"):
        assert client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200
