"""Portal shop pages and the front-desk till."""

from decimal import Decimal

import pytest

from inventory.models import Order, Stock
from inventory.tests.factories import FlashSaleFactory, ProductFactory


@pytest.fixture
def sale(stocked, branch):
    return FlashSaleFactory(product=stocked, branch=branch, quantity=5, per_member_limit=2)


def test_catalogue_lists_products_and_sales_with_bounded_queries(
    client_for, member, stocked, sale, gym, django_assert_max_num_queries
):
    for _ in range(5):
        ProductFactory(category=stocked.category)
    client = client_for(member.user)
    with django_assert_max_num_queries(15):
        response = client.get("/shop/")
    assert response.status_code == 200
    body = response.content.decode()
    assert stocked.name in body and sale.title in body and "20 in stock" in body


def test_add_to_cart_and_order_for_pickup(client_for, member, stocked, branch, in_gym):
    client = client_for(member.user)
    client.post("/shop/", {"product": stocked.pk, "quantity": 2})
    response = client.post("/shop/cart/", {"action": "order", "branch": branch.pk})
    order = Order.objects.get(member=member)
    assert response.status_code == 302 and response.url == f"/shop/orders/{order.pk}/"
    assert Stock.objects.get(product=stocked, branch=branch).reserved == 2
    assert client.get(response.url).status_code == 200


def test_cart_shows_a_total_removes_lines_and_limits_quantity_at_add_time(
    client_for, member, stocked, branch, in_gym
):
    from inventory.models import CartItem
    from inventory.services import CART_LINE_LIMIT

    client = client_for(member.user)
    other = ProductFactory(category=stocked.category, organisation=stocked.organisation)
    client.post("/shop/", {"product": stocked.pk, "quantity": 2})
    client.post("/shop/", {"product": other.pk, "quantity": 1})
    # the page adds the lines up
    page = client.get("/shop/cart/")
    stocked.refresh_from_db()
    other.refresh_from_db()
    expected = stocked.price * 2 + other.price
    assert page.context["total"] == expected
    assert f"{expected} {stocked.currency}" in page.content.decode()
    assert "Remove" in page.content.decode()
    # 999 of one product is refused when it goes in, not at checkout
    refused = client.post("/shop/", {"product": stocked.pk, "quantity": 999}, follow=True)
    assert f"up to {CART_LINE_LIMIT} of one product" in refused.content.decode()
    assert CartItem.objects.get(member=member, product=stocked).quantity == 2
    # remove takes the line out
    client.post("/shop/cart/", {"action": "update", "product": other.pk, "quantity": 0})
    assert list(CartItem.objects.filter(member=member).values_list("product_id", flat=True)) == [
        stocked.pk
    ]


def test_flash_sale_page_buys_and_shows_errors_beside_the_field(client_for, member, sale, in_gym):
    client = client_for(member.user)
    page = client.get(f"/shop/sales/{sale.pk}/")
    assert page.status_code == 200 and b"5 left" in page.content
    bad = client.post(f"/shop/sales/{sale.pk}/", {"quantity": 5})
    assert bad.status_code == 200 and b"quantity" in bad.content
    good = client.post(f"/shop/sales/{sale.pk}/", {"quantity": 1})
    assert good.status_code == 302
    type(sale).objects.filter(pk=sale.pk).update(remaining=0)
    assert b"Sold out" in client.get(f"/shop/sales/{sale.pk}/").content


def test_till_is_for_staff_and_records_a_walk_in_sale(
    client_for, front_desk, member, stocked, branch, in_gym
):
    assert client_for(member.user).get("/shop/pos/").status_code == 404
    client = client_for(front_desk)
    assert client.get("/shop/pos/").status_code == 200
    response = client.post(
        "/shop/pos/",
        {
            "branch": branch.pk,
            "payment": "paid_now",
            "provider": "manual",
            "product_0": stocked.pk,
            "quantity_0": 2,
            "customer_name": "Visitor",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 18
    receipt = client.get(response.url)
    assert b"Visitor" in receipt.content
    refused = client.post(
        "/shop/pos/",
        {"branch": branch.pk, "payment": "paid_now", "product_0": stocked.pk, "quantity_0": 99},
    )
    assert refused.status_code == 200 and b"Not enough" in refused.content


def test_flash_sales_show_the_usual_price_discount_and_a_countdown(
    client_for, member, stocked, branch, in_gym
):
    from datetime import timedelta

    from django.utils import timezone

    # given: an open sale at 12.00 on a 30.00 product, and one opening tomorrow
    open_sale = FlashSaleFactory(product=stocked, branch=branch, sale_price=Decimal("12.00"))
    later = FlashSaleFactory(
        product=stocked,
        branch=branch,
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    client = client_for(member.user)
    # when
    shop = client.get("/shop/").content.decode()
    page = client.get(f"/shop/sales/{open_sale.pk}/").content.decode()
    # then: both pages say what it usually costs, by how much less, and when it closes
    for html in (shop, page):
        assert "<del>" in html and "30.00" in html and "−60%" in html
        assert "Closes in" in html and "data-countdown" in html
        assert "inventory/countdown" in html
    # and the open sale is never described by its opening time
    assert f'datetime="{open_sale.starts_at.isoformat()}"' not in shop
    assert "Opens" in shop and f'datetime="{later.starts_at.isoformat()}"' in shop


def test_till_finds_the_member_by_typing_and_takes_scanned_codes(
    client_for, front_desk, member, stocked, branch, in_gym
):
    from inventory.models import Order

    client = client_for(front_desk)
    page = client.get("/shop/pos/").content.decode()
    # no dropdown of every member: a search box with suggestions, and a running total
    assert '<select name="member"' not in page and 'list="member-suggestions"' in page
    assert 'id="till-total"' in page and "inventory/pos" in page
    found = client.get("/shop/pos/members/", {"q": member.last_name[:4]}).json()["results"]
    assert [r["id"] for r in found] == [member.pk]
    # when: the member is typed (no JavaScript) and the product scanned twice
    response = client.post(
        "/shop/pos/",
        {
            "branch": branch.pk,
            "payment": "paid_now",
            "provider": "manual",
            "member_search": member.email,
            "scan": f"{stocked.sku} {stocked.sku.lower()}",
        },
    )
    # then: one sale of two, for that member
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get(channel="pos")
    assert order.member_id == member.pk
    assert Stock.objects.get(product=stocked, branch=branch).on_hand == 18
    # and an unknown code is refused beside the field
    bad = client.post("/shop/pos/", {"branch": branch.pk, "payment": "paid_now", "scan": "NOPE-1"})
    assert bad.status_code == 200 and "Unknown code: NOPE-1" in bad.content.decode()
