from datetime import date
from decimal import Decimal

import pytest

from accounts.tests.factories import MemberFactory
from billing.models import Invoice
from billing.services import InvoiceLineSpec, invoice_issue, invoice_void
from gymsite.errors import ServiceError
from gymsite.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_issue_numbers_taxes_and_totals(in_gym, branch, payer):
    # given: a branch charging 20% tax
    # when
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[
            InvoiceLineSpec(description="Monthly", quantity=1, unit_price=Decimal("40.00")),
            InvoiceLineSpec(description="Towel", quantity=3, unit_price=Decimal("1.99")),
        ],
        due_date=date(2030, 1, 31),
    )
    # then
    assert invoice.status == Invoice.Status.OPEN
    assert invoice.number == 1
    assert invoice.display_number == "INV-000001"
    assert invoice.subtotal == Decimal("45.97")
    assert invoice.tax_total == Decimal("9.19")  # 8.00 + 1.19 per line, rounded per line
    assert invoice.total == Decimal("55.16")
    assert invoice.amount_due == Decimal("55.16")
    assert invoice.currency == "GBP"
    assert invoice.due_date == date(2030, 1, 31)
    assert [line.total for line in invoice.lines.all()] == [Decimal("48.00"), Decimal("7.16")]
    assert OutboxMessage.objects.filter(dedupe_key=f"invoice-issued-{invoice.pk}").exists()


def test_numbers_are_sequential_per_organisation(gym, other_gym, branch, foreign_branch, payer):
    from accounts.tenancy import tenant_scope

    line = [InvoiceLineSpec(description="Pass", quantity=1, unit_price=Decimal("5"))]
    with tenant_scope(gym):
        first = invoice_issue(payer=payer, branch=branch, lines=line)
        second = invoice_issue(payer=payer, branch=branch, lines=line)
    with tenant_scope(other_gym):
        foreign = invoice_issue(
            payer=MemberFactory(home_branch=foreign_branch), branch=foreign_branch, lines=line
        )
    assert (first.number, second.number, foreign.number) == (1, 2, 1)


def test_line_tax_rate_overrides_branch_rate(in_gym, branch, payer):
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[
            InvoiceLineSpec(
                description="Book", quantity=1, unit_price=Decimal("10"), tax_rate=Decimal("0")
            )
        ],
    )
    assert invoice.tax_total == Decimal("0.00")
    assert invoice.total == Decimal("10.00")


def test_dependant_is_billed_through_household_payer(in_gym, branch, payer):
    child = MemberFactory(
        home_branch=branch, payer=payer, user=None, first_name="Kid", last_name="Doe", email=""
    )
    invoice = invoice_issue(
        payer=child,
        branch=branch,
        lines=[InvoiceLineSpec(description="Kids club", quantity=1, unit_price=Decimal("15"))],
    )
    assert invoice.payer == payer


def test_billing_key_makes_issue_idempotent(in_gym, branch, payer):
    line = [InvoiceLineSpec(description="Renewal", quantity=1, unit_price=Decimal("40"))]
    first = invoice_issue(payer=payer, branch=branch, lines=line, billing_key="m-1-2030-01")
    again = invoice_issue(payer=payer, branch=branch, lines=line, billing_key="m-1-2030-01")
    assert first.pk == again.pk
    assert Invoice.objects.count() == 1
    # and no number was used up by the repeat
    assert invoice_issue(payer=payer, branch=branch, lines=line).number == 2


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "no_lines"),
        (
            [InvoiceLineSpec(description="x", quantity=0, unit_price=Decimal("1"))],
            "invalid_quantity",
        ),
        ([InvoiceLineSpec(description="", quantity=1, unit_price=Decimal("1"))], "invalid_line"),
        (
            [InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"), currency="USD")],
            "currency_mismatch",
        ),
        (
            [InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("-5"))],
            "negative_total",
        ),
        ([InvoiceLineSpec(description="x", quantity=1, unit_price="abc")], "invalid_amount"),
    ],
)
def test_bad_lines_are_refused_and_change_nothing(in_gym, branch, payer, lines, code):
    with pytest.raises(ServiceError) as error:
        invoice_issue(payer=payer, branch=branch, lines=lines)
    assert error.value.code == code
    assert error.value.field == "lines"
    assert Invoice.objects.count() == 0
    # the refused issue did not consume a number
    ok = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
    )
    assert ok.number == 1


def test_member_of_another_gym_cannot_be_billed(outsider, branch, in_gym):
    with pytest.raises(ServiceError) as error:
        invoice_issue(
            payer=outsider,
            branch=branch,
            lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
        )
    assert error.value.code == "unknown_member"


def test_credit_line_reduces_total(in_gym, branch, payer):
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[
            InvoiceLineSpec(description="Premium", quantity=1, unit_price=Decimal("60")),
            InvoiceLineSpec(description="Unused Basic", quantity=1, unit_price=Decimal("-20")),
        ],
    )
    assert invoice.subtotal == Decimal("40.00")
    assert invoice.total == Decimal("48.00")


def test_zero_total_invoice_is_paid_at_once(in_gym, branch, payer):
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="Free trial", quantity=1, unit_price=Decimal("0"))],
    )
    assert invoice.status == Invoice.Status.PAID


def test_void_open_invoice_and_refuse_void_twice(in_gym, branch, payer, owner):
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="x", quantity=1, unit_price=Decimal("1"))],
    )
    invoice_void(invoice=invoice, actor=owner, reason="Issued by mistake")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    with pytest.raises(ServiceError) as error:
        invoice_void(invoice=invoice, actor=owner)
    assert error.value.code == "invoice_not_open"
