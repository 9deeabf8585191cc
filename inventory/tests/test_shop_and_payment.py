"""Member shop and paying for holds: cart → order for pickup → pay → collect."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, Refund
from billing.services import payment_record
from billing.tests.factories import PaymentMethodFactory
from gymsite.errors import Conflict, ServiceError
from inventory import selectors, services
from inventory.models import CartItem, Order, Stock
from inventory.services.orders import _checkout_invoice
from inventory.tests.factories import FlashSaleFactory


def test_cart_to_paid_pickup_order(stocked, branch, member, front_desk, in_gym):
    # given a member with a saved card and 2 tubs in the cart
    PaymentMethodFactory(member=member)
    services.cart_add(member=member, product=stocked, quantity=1)
    services.cart_add(member=member, product=stocked, quantity=1)

    # when they order for pickup at North
    order = services.shop_order_place(member=member, branch=branch)

    # then the tubs are held (not yet sold) and the cart is empty
    stock = Stock.objects.get(product=stocked, branch=branch)
    assert (stock.on_hand, stock.reserved) == (20, 2)
    assert order.status == Order.Status.HELD and order.total == Decimal("72.00")
    assert not CartItem.objects.exists()

    # when they pay online
    order = services.order_pay_online(order=order)

    # then billing's paid invoice turned the hold into a sale awaiting pickup
    assert order.status == Order.Status.PAID
    assert Invoice.objects.get(pk=order.invoice_id).status == Invoice.Status.PAID
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (18, 0)

    # and the desk hands it over
    order = services.order_collect(order=order, actor=front_desk)
    assert order.status == Order.Status.COLLECTED
    assert selectors.stock_ledger_mismatches() == []


def test_paying_without_a_saved_card_says_so_and_keeps_the_hold(stocked, branch, member, in_gym):
    order = services.shop_order_place(member=member, branch=branch, items=[(stocked, 1)])
    with pytest.raises(ServiceError) as error:
        services.order_pay_online(order=order)
    assert error.value.code == "no_payment_method"
    order.refresh_from_db()
    assert order.status == Order.Status.HELD


def test_desk_takes_payment_for_a_held_order(stocked, branch, member, front_desk, in_gym):
    order = services.shop_order_place(member=member, branch=branch, items=[(stocked, 3)])
    order = services.order_pay_at_desk(order=order, actor=front_desk)
    assert order.status == Order.Status.PAID and order.payment_provider == "manual"


def test_expiry_returns_stock_and_voids_the_unpaid_invoice(stocked, branch, member, in_gym):
    # given a held shop order with its invoice issued (a card payment that failed)
    order = services.shop_order_place(member=member, branch=branch, items=[(stocked, 2)])
    with pytest.raises(ServiceError):
        services.order_pay_online(order=order)
    order.refresh_from_db()

    # when its hold runs out and the job runs
    expired = services.orders_expire_due(now=timezone.now() + timedelta(minutes=31))

    # then the stock is free again and nobody will chase the invoice
    assert expired == 1
    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert Stock.objects.get(product=stocked, branch=branch).reserved == 0
    assert Invoice.objects.get(pk=order.invoice_id).status == Invoice.Status.VOID
    with pytest.raises(Conflict):
        services.order_pay_online(order=order)


def test_late_payment_after_sell_out_is_refunded(stocked, branch, member, front_desk, in_gym):
    # given a flash-sale hold whose invoice is issued, and that has run out
    sale = FlashSaleFactory(product=stocked, branch=branch, quantity=1, per_member_limit=1)
    order = services.flash_sale_buy(sale=sale, member=member)
    invoice = _checkout_invoice(order=order, now=timezone.now())
    order.refresh_from_db()
    # a charge is in flight, so expiry leaves the invoice open
    from billing.tests.factories import PaymentFactory

    PaymentFactory(invoice=invoice, amount=invoice.total, status="pending")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.orders_expire_due() == 1
    # and someone else has bought the unit meanwhile
    sale.refresh_from_db()
    from accounts.tests.factories import MemberFactory

    rival = services.flash_sale_buy(sale=sale, member=MemberFactory(home_branch=branch))
    assert rival.status == Order.Status.HELD

    # when the money arrives anyway
    payment_record(invoice=invoice, amount=invoice.total, provider="manual", actor=front_desk)

    # then the order is marked refund due and the payment refunded in full
    order.refresh_from_db()
    assert order.status == Order.Status.REFUND_DUE
    assert Refund.objects.get().amount == invoice.total
    assert selectors.stock_ledger_mismatches() == []


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ({"quantity": -1}, "invalid_quantity"),
        ({"quantity": 0}, "invalid_quantity"),
        ({"quantity": 3}, "over_limit"),
        ({"sale": "scheduled"}, "sale_not_open"),
        ({"sale": "closed"}, "sale_closed"),
    ],
)
def test_bad_flash_sale_purchases_change_nothing(stocked, branch, member, in_gym, call, code):
    # given an open sale, one that has not opened and one that has closed
    now = timezone.now()
    sales = {
        "open": FlashSaleFactory(product=stocked, branch=branch, quantity=5),
        "scheduled": FlashSaleFactory(
            product=stocked,
            branch=branch,
            starts_at=now + timedelta(hours=1),
            ends_at=now + timedelta(hours=2),
        ),
        "closed": FlashSaleFactory(
            product=stocked,
            branch=branch,
            starts_at=now - timedelta(hours=2),
            ends_at=now - timedelta(hours=1),
        ),
    }
    sale = sales[call.get("sale", "open")]

    # when the purchase is bad
    with pytest.raises(ServiceError) as error:
        services.flash_sale_buy(sale=sale, member=member, quantity=call.get("quantity", 1))

    # then a clear error and nothing changed
    assert error.value.code == code
    sale.refresh_from_db()
    assert sale.remaining == sale.quantity
    assert not Order.objects.exists()
    assert Stock.objects.get(product=stocked, branch=branch).reserved == 0


def test_all_branch_sale_needs_a_pickup_branch(stocked, branch, member, in_gym):
    sale = FlashSaleFactory(product=stocked, branch=None)
    with pytest.raises(ServiceError) as error:
        services.flash_sale_buy(sale=sale, member=member)
    assert error.value.field == "branch"
    order = services.flash_sale_buy(sale=sale, member=member, branch=branch)
    assert order.branch == branch


def test_cancelling_a_hold_gives_everything_back(stocked, branch, member, in_gym):
    sale = FlashSaleFactory(product=stocked, branch=branch, quantity=5, per_member_limit=1)
    order = services.flash_sale_buy(sale=sale, member=member)
    services.order_cancel(order=order)
    sale.refresh_from_db()
    assert sale.remaining == 5
    assert selectors.member_allowance_used(sale=sale, member=member) == 0
    # and the member may buy again
    assert services.flash_sale_buy(sale=sale, member=member).status == Order.Status.HELD
