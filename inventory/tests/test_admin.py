"""Back office: stock changes go through the ledger; the sales report."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory import services
from inventory.models import FlashSale, Stock, StockMovement


@pytest.fixture
def manager_client(client_for, manager):
    return client_for(manager)


def test_changelists_load_with_bounded_queries(
    manager_client, stocked, branch, django_assert_max_num_queries
):
    for url in [
        "/admin/inventory/product/",
        "/admin/inventory/stock/",
        "/admin/inventory/stockmovement/",
        "/admin/inventory/flashsale/",
        "/admin/inventory/order/",
        "/admin/inventory/category/",
    ]:
        with django_assert_max_num_queries(30):
            response = manager_client.get(url)
        assert response.status_code == 200, url


def test_stock_count_in_admin_writes_an_adjustment(
    manager_client, manager, stocked, branch, in_gym
):
    stock = Stock.objects.get(product=stocked, branch=branch)
    response = manager_client.post(
        f"/admin/inventory/stock/{stock.pk}/move/",
        {"kind": "count", "quantity": 17, "reason": "monthly count"},
    )
    assert response.status_code == 302
    stock.refresh_from_db()
    assert stock.on_hand == 17
    movement = StockMovement.objects.latest("pk")
    assert (movement.kind, movement.on_hand_delta, movement.actor) == ("adjusted", -3, manager)


def test_bad_stock_change_shows_the_error_and_changes_nothing(
    manager_client, stocked, branch, in_gym
):
    stock = Stock.objects.get(product=stocked, branch=branch)
    response = manager_client.post(
        f"/admin/inventory/stock/{stock.pk}/move/",
        {"kind": "adjust", "quantity": -99, "reason": "x"},
    )
    assert response.status_code == 200 and b"Not that many" in response.content
    stock.refresh_from_db()
    assert stock.on_hand == 20


def test_sales_report_per_product_and_branch(
    manager_client, stocked, branch, member, front_desk, in_gym
):
    services.pos_sale_create(branch=branch, items=[(stocked, 5)], member=member, actor=front_desk)
    response = manager_client.get("/admin/inventory/stock/sales-report/")
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert (row.units_sold, row.on_hand, str(row.sell_through)) == (5, 15, "0.250")


def test_flash_sale_created_in_admin_starts_full(manager_client, stocked, branch, in_gym):
    now = timezone.now()
    response = manager_client.post(
        "/admin/inventory/flashsale/add/",
        {
            "title": "Whey rush",
            "product": stocked.pk,
            "branch": branch.pk,
            "sale_price": "15.00",
            "starts_at_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"),
            "starts_at_1": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
            "ends_at_0": (now + timedelta(hours=3)).strftime("%Y-%m-%d"),
            "ends_at_1": (now + timedelta(hours=3)).strftime("%H:%M:%S"),
            "quantity": 10,
            "per_member_limit": 2,
            "hold_minutes": 10,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    sale = FlashSale.objects.get()
    assert (sale.quantity, sale.remaining) == (10, 10)
