from decimal import Decimal

import pytest

from accounts.tests.factories import MemberFactory
from billing.models import PendingCharge
from billing.services import (
    InvoiceLineSpec,
    account_charges_invoice,
    invoice_issue,
    invoice_void,
    member_charge_add,
    member_charge_cancel,
)
from gymsite.errors import ServiceError

pytestmark = pytest.mark.django_db


def test_charge_goes_on_account_and_onto_the_next_invoice(in_gym, branch, payer):
    # given: a late-cancel fee on a dependant's account
    child = MemberFactory(
        home_branch=branch, payer=payer, user=None, first_name="Kid", last_name="Doe", email=""
    )
    charge = member_charge_add(
        member=child,
        branch=branch,
        description="Late cancellation: Spin",
        amount=Decimal("5"),
        source_type="bookings.booking",
        source_id="42",
    )
    assert charge.status == PendingCharge.Status.PENDING
    assert charge.payer == payer
    assert charge.amount == Decimal("5.00")
    # when: the payer's next invoice is issued with account charges
    invoice = invoice_issue(
        payer=payer,
        branch=branch,
        lines=[InvoiceLineSpec(description="Monthly", quantity=1, unit_price=Decimal("40"))],
        include_account_charges=True,
    )
    # then
    charge.refresh_from_db()
    assert charge.status == PendingCharge.Status.INVOICED
    assert charge.invoice_line.invoice == invoice
    assert charge.invoice_line.source_type == "bookings.booking"
    assert invoice.subtotal == Decimal("45.00")


def test_same_source_is_charged_once(in_gym, branch, payer):
    kwargs = {
        "member": payer,
        "branch": branch,
        "description": "No-show",
        "amount": Decimal("5"),
        "source_type": "bookings.booking",
        "source_id": "1",
    }
    assert member_charge_add(**kwargs).pk == member_charge_add(**kwargs).pk
    assert PendingCharge.objects.count() == 1


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-3"), "x"])
def test_bad_amount_is_refused(in_gym, branch, payer, amount):
    with pytest.raises(ServiceError) as error:
        member_charge_add(
            member=payer,
            branch=branch,
            description="Fee",
            amount=amount,
            source_type="t",
            source_id="1",
        )
    assert error.value.field == "amount"
    assert PendingCharge.objects.count() == 0


def test_bill_account_charges_now_and_void_puts_them_back(in_gym, branch, payer, owner):
    assert account_charges_invoice(payer=payer, branch=branch) is None
    member_charge_add(
        member=payer,
        branch=branch,
        description="Shake",
        amount=Decimal("4.50"),
        source_type="inventory.order",
        source_id="9",
    )
    invoice = account_charges_invoice(payer=payer, branch=branch)
    assert invoice.total == Decimal("5.40")
    invoice_void(invoice=invoice, actor=owner)
    assert PendingCharge.objects.get().status == PendingCharge.Status.PENDING


def test_cancel_unbilled_charge(in_gym, branch, payer, owner):
    charge = member_charge_add(
        member=payer,
        branch=branch,
        description="No-show",
        amount=Decimal("5"),
        source_type="bookings.booking",
        source_id="3",
    )
    member_charge_cancel(charge=charge, actor=owner)
    assert charge.status == PendingCharge.Status.CANCELLED
    with pytest.raises(ServiceError):
        member_charge_cancel(charge=charge, actor=owner)
