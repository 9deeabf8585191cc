"""The member shop: a cart, and an order for pickup whose stock is held until paid."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Branch, Member
from gymsite.errors import NotAllowed, ServiceError
from inventory.models import CartItem, Order, Product
from inventory.services.checks import _active_branch, _active_product, _positive_quantity
from inventory.services.orders import (
    ItemRequest,
    _create_order_with_lines,
    _new_order_number,
    _stock_ids_in_lock_order,
    _validated_items,
)
from inventory.services.stock import _order_stock_claim

SHOP_HOLD_MINUTES = 30
# At most this many of one product in a member's cart (the till keeps its own, larger
# limit): checked when it goes in, so a cart never holds what checkout would refuse.
CART_LINE_LIMIT = 20


def _cart_line_check(quantity: int) -> None:
    if quantity > CART_LINE_LIMIT:
        raise ServiceError(
            gettext("You can order up to %(n)s of one product online; ask at the desk for more.")
            % {"n": CART_LINE_LIMIT},
            code="cart_line_limit",
            field="quantity",
        )


@transaction.atomic
def cart_set(*, member: Member, product: Product, quantity: int) -> CartItem | None:
    """Put a quantity of a product in the member's cart (0 removes it)."""
    if product.organisation_id != member.organisation_id:
        raise ServiceError("Unknown product.", code="unknown_product", field="product")
    if isinstance(quantity, int) and quantity == 0:
        CartItem.objects.filter(member=member, product=product).delete()
        return None
    if not isinstance(quantity, bool) and isinstance(quantity, int):
        _cart_line_check(quantity)
    quantity = _positive_quantity(quantity)
    _cart_line_check(quantity)
    _active_product(product)
    item, _ = CartItem.objects.update_or_create(
        member=member,
        product=product,
        defaults={"quantity": quantity, "organisation_id": member.organisation_id},
    )
    return item


@transaction.atomic
def cart_add(*, member: Member, product: Product, quantity: int = 1) -> CartItem:
    quantity = _positive_quantity(quantity)
    existing = CartItem.objects.filter(member=member, product=product).first()
    return cart_set(
        member=member, product=product, quantity=quantity + (existing.quantity if existing else 0)
    )


@transaction.atomic
def shop_order_place(*, member: Member, branch: Branch, items=None, now=None) -> Order:
    """Order for pickup: the cart's products are held at the branch until paid.

    The hold lasts ``SHOP_HOLD_MINUTES``; unpaid, it expires and the stock returns.
    """
    now = now or timezone.now()
    if member.status != Member.Status.ACTIVE:
        raise NotAllowed("Only active members can order.", code="not_member")
    if branch.organisation_id != member.organisation_id:
        raise ServiceError("Unknown branch.", code="unknown_branch", field="branch")
    _active_branch(branch)
    from_cart = items is None
    if from_cart:
        items = [
            ItemRequest(product=item.product, quantity=item.quantity)
            for item in CartItem.objects.filter(member=member).select_related("product")
        ]
        if not items:
            raise ServiceError("Your cart is empty.", code="empty_cart", field="items")
    items = _stock_ids_in_lock_order(
        branch=branch, items=_validated_items(items, organisation_id=member.organisation_id)
    )
    order, _lines = _create_order_with_lines(
        branch=branch,
        items=items,
        number=_new_order_number("W"),
        channel=Order.Channel.SHOP,
        status=Order.Status.HELD,
        member=member,
        customer_email=member.email,
        expires_at=now + timedelta(minutes=SHOP_HOLD_MINUTES),
        created_by=member.user,
    )
    _order_stock_claim(
        order=order, items=items, hold=True, actor=member.user, reason="shop order hold"
    )
    if from_cart:
        CartItem.objects.filter(member=member).delete()
    return order
