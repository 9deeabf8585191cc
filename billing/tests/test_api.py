from decimal import Decimal

import pytest

from accounts.tests.factories import MemberFactory
from billing.models import Invoice, Payment
from billing.services import InvoiceLineSpec, invoice_issue
from billing.tests.factories import PaymentMethodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(member, branch, in_gym):
    return invoice_issue(
        payer=member,
        branch=branch,
        lines=[InvoiceLineSpec(description="Towel", quantity=1, unit_price=Decimal("5"))],
    )


def test_member_lists_own_invoices_only(api_client, member, branch, invoice):
    other = MemberFactory(home_branch=branch)
    invoice_issue(
        payer=other,
        branch=branch,
        lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
    )
    api_client.force_authenticate(member.user)
    body = api_client.get("/api/v1/invoices").json()
    assert [i["id"] for i in body["results"]] == [invoice.pk]
    assert body["results"][0]["amount_due"] == "6.00"
    assert body["results"][0]["lines"][0]["description"] == "Towel"


def test_staff_lists_their_branch_invoices(api_client, front_desk, member, other_branch, invoice):
    invoice_issue(
        payer=member,
        branch=other_branch,
        lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
    )
    api_client.force_authenticate(front_desk)
    body = api_client.get("/api/v1/invoices", {"member": member.pk}).json()
    assert [i["id"] for i in body["results"]] == [invoice.pk]


def test_member_pays_with_saved_card(api_client, member, invoice):
    PaymentMethodFactory(member=member)
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {})
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    again = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {})
    assert again.status_code == 409 and again.json()["code"] == "invoice_already_paid"


def test_declined_card_is_402_with_code(api_client, member, invoice):
    PaymentMethodFactory(member=member, method_reference="pm_decline_card_declined")
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {})
    assert response.status_code == 402
    assert response.json()["failure_code"] == "card_declined"


def test_member_without_card_gets_400(api_client, member, invoice):
    api_client.force_authenticate(member.user)
    response = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {})
    assert response.status_code == 400 and response.json()["code"] == "no_payment_method"


def test_member_cannot_pay_someone_elses_invoice(api_client, branch, invoice):
    other = MemberFactory(home_branch=branch)
    PaymentMethodFactory(member=other)
    api_client.force_authenticate(other.user)
    assert api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {}).status_code == 404
    assert not Payment.objects.exists()


def test_staff_records_desk_payment_with_validation(api_client, front_desk, invoice):
    api_client.force_authenticate(front_desk)
    negative = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {"amount": "-1"})
    assert negative.status_code == 400 and "amount" in negative.json()["fields"]
    too_much = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {"amount": "100"})
    assert too_much.status_code == 400 and too_much.json()["code"] == "overpayment"
    unknown = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {"provider": "gold"})
    assert unknown.status_code == 400
    assert not Payment.objects.exists()
    ok = api_client.post(f"/api/v1/invoices/{invoice.pk}/pay", {"amount": "6.00"})
    assert ok.status_code == 200 and ok.json()["provider"] == "manual"
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
