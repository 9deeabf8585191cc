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
    # the form comes back with the refusal and what was typed
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'value="99"' in response.content.decode()
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


def test_action_forms_show_styled_inputs(client_for, manager, invoice):
    payment = payment_record(invoice=invoice, amount=Decimal("60.00"))
    page = _action(client_for(manager), "payment", "refund", [payment.pk])
    html = page.content.decode()
    assert page.status_code == 200
    # every label has its input, with unfold's border classes (visible)
    assert '<label for="id_amount"' in html and 'id="id_amount"' in html
    assert 'id="id_reason"' in html
    amount_input = html[html.index('id="id_amount"') - 400 : html.index('id="id_amount"') + 400]
    assert "border" in amount_input


def test_a_refused_refund_keeps_what_was_typed_beside_the_field(client_for, manager, invoice):
    # given: a 60.00 payment
    payment = payment_record(invoice=invoice, amount=Decimal("60.00"))
    # when: the manager asks to refund more than was paid
    response = _action(
        client_for(manager),
        "payment",
        "refund",
        [payment.pk],
        apply="1",
        amount="500",
        reason="Customer asked twice",
    )
    # then: the form again, the reason and amount as typed, the refusal shown
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="500"' in html and 'value="Customer asked twice"' in html
    assert response.context["form"].errors
    assert not Refund.objects.exists()


def test_admin_lists_show_amounts_with_currency_sign_and_separators(
    client_for, owner, payer, branch, in_gym
):
    big = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="Year", quantity=1, unit_price=Decimal("1234.5"))],
    )
    payment_record(invoice=big, amount=Decimal("1000"))
    client = client_for(owner)
    invoices = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    # the total (with the branch's tax) and what is left, each as £1,234.50
    total = f"£{big.total:,.2f}"
    due = f"£{big.total - Decimal('1000'):,.2f}"
    assert big.total > 1000 and total in invoices and due in invoices
    payments = client.get(reverse("admin:billing_payment_changelist")).content.decode()
    assert "£1,000.00" in payments
