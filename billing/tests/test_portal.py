from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import MemberFactory
from billing.models import Invoice, PaymentMethod
from billing.services import InvoiceLineSpec, invoice_issue, payment_record
from billing.tests.factories import PaymentMethodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(member, branch, in_gym):
    return invoice_issue(
        payer=member,
        branch=branch,
        lines=[InvoiceLineSpec(description="Day pass", quantity=2, unit_price=Decimal("10"))],
    )


def test_invoices_list_and_detail(client_for, member, invoice):
    client = client_for(member.user)
    listing = client.get(reverse("billing:invoices"))
    assert listing.status_code == 200 and invoice.display_number in listing.text
    detail = client.get(reverse("billing:invoice", args=[invoice.pk]))
    assert detail.status_code == 200 and "24.00" in detail.text


def test_receipt_is_printable(client_for, member, invoice):
    payment_record(invoice=invoice, amount=Decimal("24.00"))
    response = client_for(member.user).get(reverse("billing:receipt", args=[invoice.pk]))
    assert response.status_code == 200
    assert "Receipt" in response.text and "@media print" in response.text


def test_other_members_invoice_is_not_found(client_for, branch, invoice, in_gym):
    other = MemberFactory(home_branch=branch)
    client = client_for(other.user)
    assert client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 404
    assert client.post(reverse("billing:pay", args=[invoice.pk])).status_code == 404


def test_pay_with_saved_card(client_for, member, invoice):
    PaymentMethodFactory(member=member)
    response = client_for(member.user).post(reverse("billing:pay", args=[invoice.pk]))
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_add_test_card_then_decline_shows_message(client_for, member, invoice):
    client = client_for(member.user)
    client.post(reverse("billing:add_test_card"), {"kind": "decline"})
    assert PaymentMethod.objects.get().last4 == "0002"
    response = client.post(reverse("billing:pay", args=[invoice.pk]), follow=True)
    assert "declined" in response.text
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN


def test_invoices_page_query_count(
    client_for, member, branch, in_gym, django_assert_max_num_queries
):
    for _ in range(10):
        invoice_issue(
            payer=member,
            branch=branch,
            lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
        )
    client = client_for(member.user)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("billing:invoices")).status_code == 200


def test_payment_page_never_says_not_set_up_and_then_offers_a_test_card(
    client_for, member, invoice, settings
):
    client = client_for(member.user)
    url = reverse("billing:invoice", args=[invoice.pk])
    # given: a development site with the sandbox on: test cards, said to be tests
    settings.BILLING_SANDBOX_ENABLED = True
    page = client.get(url).text
    assert "Add a test card" in page and "This is a test site" in page
    assert "not set up" not in page
    # given: a live site without card payments: the desk, and no test card at all
    settings.BILLING_SANDBOX_ENABLED = False
    page = client.get(url).text
    assert "not set up" in page
    assert "test card" not in page.lower()
    assert client.post(reverse("billing:add_test_card"), {"kind": "ok"}).status_code == 404
