"""The shop and flash-sale API: thin views over the services, one error format."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Order, Stock
from inventory.tests.factories import FlashSaleFactory


@pytest.fixture
def member_api(api_client, member):
    api_client.force_authenticate(member.user)
    return api_client


@pytest.fixture
def sale(stocked, branch):
    return FlashSaleFactory(product=stocked, branch=branch, quantity=5, per_member_limit=2)


def test_catalogue_shows_free_units_at_a_branch(api_client, stocked, branch):
    response = api_client.get(f"/api/v1/shop/products?branch={branch.pk}")
    assert response.status_code == 200
    [product] = response.json()["results"]
    assert (product["sku"], product["free"]) == (stocked.sku, 20)


def test_buy_reserves_and_status_counts_down(member_api, sale):
    # when a member buys one unit
    response = member_api.post(f"/api/v1/flash-sales/{sale.pk}/buy", {"quantity": 1})

    # then a held order comes back, and the poll endpoint shows one fewer
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "held"
    status = member_api.get(f"/api/v1/flash-sales/{sale.pk}/status").json()
    assert (status["status"], status["remaining"]) == ("open", 4)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"quantity": -1}, 400, "validation_error"),
        ({"quantity": "lots"}, 400, "validation_error"),
        ({"quantity": 3}, 400, "over_limit"),
        ({"quantity": None}, 400, "validation_error"),
        ({"branch": 0}, 400, "validation_error"),
        ([1], 400, "validation_error"),
    ],
)
def test_bad_buy_requests_get_clear_errors(member_api, sale, branch, body, status, code):
    response = member_api.post(f"/api/v1/flash-sales/{sale.pk}/buy", body)
    assert response.status_code == status
    assert response.json()["code"] == code
    sale.refresh_from_db()
    assert sale.remaining == 5


def test_sold_out_is_409_and_status_says_sold_out(member_api, sale, in_gym):
    type(sale).objects.filter(pk=sale.pk).update(remaining=0)
    response = member_api.post(f"/api/v1/flash-sales/{sale.pk}/buy", {})
    assert response.status_code == 409 and response.json()["code"] == "sold_out"
    assert member_api.get(f"/api/v1/flash-sales/{sale.pk}/status").json()["status"] == "sold_out"


def test_unknown_sale_and_scheduled_sale(member_api, stocked, branch):
    assert member_api.post("/api/v1/flash-sales/999999/buy", {}).status_code == 400
    later = FlashSaleFactory(
        product=stocked,
        branch=branch,
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=2),
    )
    response = member_api.post(f"/api/v1/flash-sales/{later.pk}/buy", {})
    assert response.status_code == 400 and response.json()["code"] == "sale_not_open"


def test_shop_order_from_items_and_cancel(member_api, stocked, branch, in_gym):
    response = member_api.post(
        "/api/v1/shop/orders",
        {"branch": branch.pk, "items": [{"product": stocked.pk, "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    order_id = response.json()["id"]
    assert Stock.objects.get(product=stocked, branch=branch).reserved == 2
    response = member_api.post(f"/api/v1/shop/orders/{order_id}/cancel")
    assert response.json()["status"] == "cancelled"
    assert Stock.objects.get(product=stocked, branch=branch).reserved == 0


def test_cart_and_unknown_product(member_api, stocked):
    assert (
        member_api.post("/api/v1/shop/cart", {"product": stocked.pk, "quantity": 2}).status_code
        == 200
    )
    assert member_api.get("/api/v1/shop/cart").json()[0]["quantity"] == 2
    response = member_api.post("/api/v1/shop/cart", {"product": 999999, "quantity": 1})
    assert response.status_code == 400 and response.json()["fields"] == {
        "product": ["Unknown product."]
    }


def test_orders_of_other_members_are_invisible(api_client, member, stocked, branch, in_gym):
    from accounts.tests.factories import MemberFactory
    from inventory import services

    other = MemberFactory(home_branch=branch)
    order = services.shop_order_place(member=other, branch=branch, items=[(stocked, 1)])
    api_client.force_authenticate(member.user)
    assert api_client.get(f"/api/v1/shop/orders/{order.pk}").status_code == 404


def test_pos_sale_by_front_desk_and_refused_to_members(
    api_client, front_desk, member, stocked, branch
):
    api_client.force_authenticate(front_desk)
    response = api_client.post(
        "/api/v1/pos/sales",
        {"branch": branch.pk, "items": [{"product": stocked.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == Order.Status.COLLECTED
    api_client.force_authenticate(member.user)
    response = api_client.post(
        "/api/v1/pos/sales",
        {"branch": branch.pk, "items": [{"product": stocked.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 403


def test_buy_answer_matches_the_held_order(member_api, sale, member, in_gym):
    body = member_api.post(f"/api/v1/flash-sales/{sale.pk}/buy", {"quantity": 2}).json()
    order = Order.objects.get(pk=body["id"])
    assert (order.member, order.status, order.number, str(order.total)) == (
        member,
        Order.Status.HELD,
        body["number"],
        body["total"],
    )
    assert order.created_by_id == member.user_id and order.customer_email == member.email
    # and a third unit is over the member's limit of 2
    again = member_api.post(f"/api/v1/flash-sales/{sale.pk}/buy", {"quantity": 1})
    assert again.status_code == 409 and again.json()["code"] == "over_limit"


@pytest.mark.parametrize("who", ["staff_only", "archived_member"])
def test_only_an_active_member_can_buy_and_a_refusal_changes_nothing(
    api_client, sale, member, front_desk, in_gym, who
):
    if who == "archived_member":
        type(member).objects.filter(pk=member.pk).update(status="archived")
        user = member.user
    else:
        user = front_desk  # signed in to the gym, but no member record
    api_client.force_authenticate(user)
    response = api_client.post(f"/api/v1/flash-sales/{sale.pk}/buy", {"quantity": 1})
    assert response.status_code == 403 and response.json()["code"] == "not_member"
    sale.refresh_from_db()
    assert sale.remaining == 5 and not Order.objects.exists()
    assert Stock.objects.get(product=sale.product, branch=sale.branch).reserved == 0
