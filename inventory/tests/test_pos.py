"""Front-desk sales: members and walk-ins, paid now or on account; receipts; returns."""

from decimal import Decimal

import pytest

from accounts.tenancy import tenant_scope
from billing.models import Invoice, PendingCharge, Refund
from gymsite.errors import Conflict, ServiceError
from gymsite.models import OutboxMessage
from inventory import selectors, services
from inventory.models import Order, Product, Stock, StockMovement
from inventory.tests.factories import ProductFactory


@pytest.fixture
def desk(gym, branch):
    with tenant_scope(gym, branch_ids=[branch.pk]):
        yield


@pytest.fixture
def foreign(other_gym):
    return ProductFactory(category__organisation=other_gym)


@pytest.fixture
def day_pass(gym):
    return ProductFactory(
        category__organisation=gym, name="Day pass", kind=Product.Kind.DAY_PASS, price="10.00"
    )


def test_member_paid_now_gets_a_paid_invoice_and_stock_leaves(
    stocked, day_pass, branch, member, front_desk, desk
):
    # given 20 tubs of whey at 30.00 + 20% tax, and a day pass at 10.00
    # when the desk sells 2 tubs and a day pass to a member, paid by card terminal
    order = services.pos_sale_create(
        branch=branch,
        items=[(stocked, 2), (day_pass, 1)],
        member=member,
        actor=front_desk,
        provider="manual",
    )

    # then the sale is complete, the invoice paid, stock down by 2 (day passes uncounted)
    assert order.status == Order.Status.COLLECTED
    assert (order.subtotal, order.tax_total, order.total) == (
        Decimal("70.00"),
        Decimal("14.00"),
        Decimal("84.00"),
    )
    invoice = Invoice.objects.get(pk=order.invoice_id)
    assert invoice.status == Invoice.Status.PAID and invoice.total == order.total
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 18
    assert StockMovement.objects.get(order=order).kind == "sold"
    assert OutboxMessage.objects.filter(payload__subject__startswith="Your receipt").exists()


def test_walk_in_paid_now_is_its_own_receipt(stocked, branch, front_desk, desk):
    # when a walk-in buys a tub
    order = services.pos_sale_create(
        branch=branch, items=[(stocked, 1)], actor=front_desk, customer_name="Visitor"
    )

    # then there is no invoice (no account to bill); the order is the receipt
    assert order.invoice_id is None and order.member_id is None
    assert order.payment == Order.Payment.PAID_NOW and order.total == Decimal("36.00")
    assert order.customer == "Visitor"


def test_charge_to_account_puts_the_sale_on_the_next_invoice(
    stocked, branch, member, front_desk, desk
):
    # when a member puts 2 tubs on their account
    order = services.pos_sale_create(
        branch=branch, items=[(stocked, 2)], member=member, actor=front_desk, payment="account"
    )

    # then billing holds a pending charge for the net amount (tax added when invoiced)
    charge = PendingCharge.objects.get(source_type="inventory.order_line")
    assert charge.amount == Decimal("60.00") and charge.member == member
    assert order.invoice_id is None


def test_account_sale_is_invoiced_at_the_products_own_tax_rate(
    gym, branch, member, front_desk, owner, desk
):
    # given a product taxed at 5% in a branch whose rate is 20%
    reduced = ProductFactory(
        category__organisation=gym, price=Decimal("10.00"), tax_rate=Decimal("0.0500")
    )
    services.stock_receive(product=reduced, branch=branch, quantity=5, actor=owner)
    assert branch.tax_rate == Decimal("0.2000")

    # when a member puts 3 on their account and the account is then invoiced
    order = services.pos_sale_create(
        branch=branch, items=[(reduced, 3)], member=member, actor=front_desk, payment="account"
    )
    from billing.services import invoice_issue

    invoice = invoice_issue(payer=member, branch=branch, lines=[], include_account_charges=True)

    # then the invoice line carries the product's rate, and equals the receipt
    line = invoice.lines.get()
    assert (line.tax_rate, line.tax_amount) == (Decimal("0.0500"), Decimal("1.50"))
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        order.subtotal,
        order.tax_total,
        order.total,
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"items": []}, "no_items"),
        ({"items": [("stocked", 0)]}, "invalid_quantity"),
        ({"items": [("stocked", -2)]}, "invalid_quantity"),
        ({"items": [("stocked", 21)]}, "out_of_stock"),
        ({"items": [("stocked", 1)], "payment": "account"}, "account_needs_member"),
        ({"items": [("stocked", 1)], "provider": "bitcoin"}, "invalid_provider"),
        ({"items": [("foreign", 1)]}, "unknown_product"),
    ],
)
def test_bad_sales_are_refused_and_change_nothing(
    stocked, branch, front_desk, foreign, desk, kwargs, code
):
    # given 20 units
    items = [
        ({"stocked": stocked, "foreign": foreign}[name], qty) for name, qty in kwargs.pop("items")
    ]

    # when the desk tries a bad sale
    with pytest.raises(ServiceError) as error:
        services.pos_sale_create(branch=branch, items=items, actor=front_desk, **kwargs)

    # then a clear error, no order, no stock moved
    assert error.value.code == code
    assert not Order.objects.exists()
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 20


def test_return_restocks_and_refunds_the_invoice_payment(stocked, branch, member, front_desk, desk):
    # given a member bought 3 tubs, paid now
    order = services.pos_sale_create(
        branch=branch, items=[(stocked, 3)], member=member, actor=front_desk
    )
    line = order.lines.get()

    # when 2 come back
    services.order_line_return(line=line, quantity=2, actor=front_desk, reason="unopened")

    # then they are on the shelf again, and 2/3 of the money is refunded
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 19
    refund = Refund.objects.get()
    assert refund.amount == Decimal("72.00")
    order.refresh_from_db()
    assert order.refunded_total == Decimal("72.00")
    assert selectors.stock_ledger_mismatches() == []

    # and more than is left cannot be returned
    with pytest.raises(ServiceError) as error:
        services.order_line_return(line=line, quantity=2, actor=front_desk, reason="again")
    assert error.value.code == "over_return"


def test_return_of_an_account_sale_reduces_the_unbilled_charge(
    stocked, branch, member, front_desk, desk
):
    # given 2 tubs on account, not yet invoiced
    order = services.pos_sale_create(
        branch=branch, items=[(stocked, 2)], member=member, actor=front_desk, payment="account"
    )

    # when one is returned damaged (not restocked)
    services.order_line_return(
        line=order.lines.get(), quantity=1, actor=front_desk, reason="damaged", restock=False
    )

    # then the account is charged for one, and the shelf is unchanged
    live = PendingCharge.objects.exclude(status=PendingCharge.Status.CANCELLED).get()
    assert live.amount == Decimal("30.00")
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 18


def test_held_order_cannot_be_returned(stocked, branch, member, in_gym, front_desk):
    order = services.shop_order_place(member=member, branch=branch, items=[(stocked, 1)])
    with pytest.raises(Conflict):
        services.order_line_return(line=order.lines.get(), quantity=1, actor=front_desk, reason="x")
