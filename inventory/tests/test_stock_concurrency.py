"""Till sales and shop holds racing for the same shelf: never below zero."""

import pytest

from accounts.models import Member
from accounts.tenancy import tenant_scope
from gymsite.errors import Conflict
from inventory import selectors, services
from inventory.models import Order, Stock
from inventory.tests.concurrency import run_in_waves
from inventory.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_desk_sales_and_shop_orders_racing_for_ten_units(gym, branch, owner, front_desk):
    # given 10 units on the shelf
    product = ProductFactory(category__organisation=gym)
    with tenant_scope(gym):
        services.stock_receive(product=product, branch=branch, quantity=10, actor=owner)
        shoppers = Member.objects.bulk_create(
            Member(organisation=gym, first_name=f"S{n}", last_name="Shop", home_branch=branch)
            for n in range(15)
        )

    # when 15 till sales and 15 shop orders of one unit each arrive together
    def act(argument):
        kind, shopper = argument
        if kind == "desk":
            return services.pos_sale_create(branch=branch, items=[(product, 1)], actor=front_desk)
        return services.shop_order_place(member=shopper, branch=branch, items=[(product, 1)])

    results = run_in_waves(
        act,
        [("desk", None)] * 15 + [("shop", shopper) for shopper in shoppers],
        organisation_id=gym.pk,
    )

    # then exactly 10 succeeded between them, the rest were told it is out of stock
    won = [r for r in results if isinstance(r, Order)]
    assert len(won) == 10
    assert all(
        isinstance(r, Conflict) and r.code == "out_of_stock" for r in results if r not in won
    )
    with tenant_scope(gym):
        stock = Stock.objects.get(product=product, branch=branch)
        sold = sum(1 for o in won if o.channel == Order.Channel.POS)
        held = sum(1 for o in won if o.channel == Order.Channel.SHOP)
        assert (stock.on_hand, stock.reserved) == (10 - sold, held)
        assert selectors.stock_ledger_mismatches() == []


def test_status_poll_needs_few_queries(client, gym, branch, django_assert_max_num_queries):
    from inventory.tests.factories import FlashSaleFactory

    sale = FlashSaleFactory(product=ProductFactory(category__organisation=gym), branch=branch)
    client.defaults["HTTP_HOST"] = "gym-a.test"
    with django_assert_max_num_queries(3):  # the gym by host name, then the sale
        response = client.get(f"/api/v1/flash-sales/{sale.pk}/status")
    assert response.status_code == 200 and response.json()["status"] == "open"
