"""A held order's lifecycle: expiry (by the job or at read time), cancellation, and
payment arriving, which turns the hold into a sale, or, if the hold was lost and the
goods are gone, into a refund. Billing's paid-invoice hook lives here too.

Expiry and payment lock the same rows first, in the one lock order (a member's
flash-sale allowance → stock rows by pk → flash sale), then decide with a conditional
update of the order's status: expiry racing payment has exactly one winner.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from billing.models import Invoice, Payment
from billing.services import invoice_paid_handler, invoice_void, refund_create
from gymsite.errors import Conflict
from gymsite.outbox import email_enqueue
from inventory.models import FlashSale, FlashSaleAllowance, Order, OrderLine, Stock, StockMovement
from inventory.services.counters import (
    _allowance_take,
    _execute,
    _Lost,
    _sale_units_take,
    _stock_units_claim,
)
from inventory.services.day_passes import _day_passes_grant
from inventory.services.orders import ORDER_SOURCE
from inventory.services.stock import _maybe_alert_low_stock, _movement


def _lock_for_order(order: Order) -> tuple[list[OrderLine], dict[int, int]]:
    """Lock what releasing or selling the order will change, in the one lock order:
    the member's flash-sale allowance → stock rows (by pk) → the flash sale.
    The order row itself is then decided by a conditional update."""
    lines = list(OrderLine.objects.filter(order_id=order.pk).select_related("product"))
    if order.flash_sale_id and order.member_id:
        list(
            FlashSaleAllowance.objects.filter(
                sale_id=order.flash_sale_id, member_id=order.member_id
            )
            .select_for_update()
            .values("pk")
        )
    stock_ids = list(
        Stock.objects.filter(
            branch_id=order.branch_id, product_id__in=[line.product_id for line in lines]
        )
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "product_id")
    )
    stock_by_product = {product_id: pk for pk, product_id in stock_ids}
    if order.flash_sale_id:
        list(FlashSale.objects.filter(pk=order.flash_sale_id).select_for_update().values("pk"))
    return lines, stock_by_product


def _release_holds(*, order: Order, lines, stock_by_product, kind_reason: str, actor=None):
    for line in lines:
        if not line.product.tracks_stock:
            continue
        stock_id = stock_by_product[line.product_id]
        Stock.objects.filter(pk=stock_id).update(reserved=F("reserved") - line.quantity)
        _movement(
            stock_id=stock_id,
            product_id=line.product_id,
            branch_id=order.branch_id,
            kind=StockMovement.Kind.RELEASED,
            reserved_delta=-line.quantity,
            order=order,
            actor=actor,
            reason=kind_reason,
            organisation_id=order.organisation_id,
        )
    if order.flash_sale_id:
        units = sum(line.quantity for line in lines)
        FlashSale.objects.filter(pk=order.flash_sale_id).update(remaining=F("remaining") + units)
        FlashSaleAllowance.objects.filter(
            sale_id=order.flash_sale_id, member_id=order.member_id
        ).update(quantity=F("quantity") - units)


@transaction.atomic
def order_expire(*, order: Order, now=None) -> bool:
    """Return a held order's stock if its hold has run out. True if this call expired it."""
    now = now or timezone.now()
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD, expires_at__lte=now).update(
        status=Order.Status.EXPIRED
    )
    if not won:
        return False
    _release_holds(
        order=order, lines=lines, stock_by_product=stock_by_product, kind_reason="hold expired"
    )
    _void_unpaid_invoice(order)
    return True


def _void_unpaid_invoice(order: Order) -> None:
    """An order that will not be sold takes its unpaid invoice with it (no dunning for
    it). Left alone when money is on it or a charge is in flight: if that payment
    lands, the paid handler sells from free stock or refunds."""
    if order.invoice_id is None:
        return
    invoice = Invoice.objects.filter(pk=order.invoice_id).first()
    if (
        invoice is None
        or invoice.status != Invoice.Status.OPEN
        or invoice.amount_paid > 0
        or invoice.payments.filter(status=Payment.Status.PENDING).exists()
    ):
        return
    invoice_void(invoice=invoice, reason=f"order {order.number} not paid in time")


def orders_expire_due(*, now=None, flash_sale=None, limit=500) -> int:
    """Expire held orders past their hold (the periodic job, and the read-time path).

    With ``flash_sale`` only that sale's holds are swept (a buyer found it sold out).
    """
    now = now or timezone.now()
    due = Order.objects.filter(status=Order.Status.HELD, expires_at__lte=now)
    if flash_sale is not None:
        due = due.filter(flash_sale=flash_sale)
    due = list(due.order_by("expires_at", "pk")[:limit])
    expired = 0
    for order in due:
        expired += order_expire(order=order, now=now)
    return expired


@transaction.atomic
def order_cancel(*, order: Order, actor: User | None = None) -> Order:
    """Give up a held order (the member changed their mind): stock goes back now."""
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD).update(
        status=Order.Status.CANCELLED
    )
    if not won:
        raise Conflict("Only an order awaiting payment can be cancelled.", code="not_held")
    _release_holds(
        order=order,
        lines=lines,
        stock_by_product=stock_by_product,
        kind_reason="order cancelled",
        actor=actor,
    )
    _void_unpaid_invoice(order)
    order.refresh_from_db()
    return order


@dataclass(frozen=True)
class PaymentOutcome:
    order: Order
    sold: bool  # False: the hold was gone and could not be taken again: refund due


@transaction.atomic
def order_mark_paid(*, order: Order, provider: str = "manual", now=None) -> PaymentOutcome:
    """Money for a held order arrived: the hold becomes a sale.

    If the hold has already run out (expired by the job, or only by the clock),
    payment and expiry have one winner: the order is taken again from free stock
    (and the sale's counter) if it is still there; otherwise it is marked
    ``refund_due`` and the member told. Idempotent for a repeat of the same payment.
    """
    now = now or timezone.now()
    lines, stock_by_product = _lock_for_order(order)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.HELD, expires_at__gt=now).update(
        status=Order.Status.PAID,
        payment=Order.Payment.ONLINE,
        payment_provider=provider,
        paid_at=now,
    )
    if won:
        for line in lines:
            if not line.product.tracks_stock:
                continue
            stock_id = stock_by_product[line.product_id]
            rows = _execute(
                f"UPDATE {Stock._meta.db_table} SET on_hand = on_hand - %s, "  # noqa: S608
                "reserved = reserved - %s WHERE id = %s RETURNING on_hand, reserved",
                [line.quantity, line.quantity, stock_id],
            )
            _movement(
                stock_id=stock_id,
                product_id=line.product_id,
                branch_id=order.branch_id,
                kind=StockMovement.Kind.SOLD,
                on_hand_delta=-line.quantity,
                reserved_delta=-line.quantity,
                order=order,
                reason="paid hold",
                organisation_id=order.organisation_id,
            )
            _maybe_alert_low_stock(
                stock_id=stock_id, on_hand=rows[0][0], reserved=rows[0][1], product=line.product
            )
        order.refresh_from_db()
        _day_passes_grant(order=order, lines=lines, member=order.member, actor=None, now=now)
        return PaymentOutcome(order=order, sold=True)

    order.refresh_from_db()
    if order.status in (Order.Status.PAID, Order.Status.COLLECTED, Order.Status.REFUND_DUE):
        return PaymentOutcome(order=order, sold=order.status != Order.Status.REFUND_DUE)
    if order.status == Order.Status.HELD:
        # Past its hold but not yet swept: expire it here, in this same transaction.
        Order.objects.filter(pk=order.pk).update(status=Order.Status.EXPIRED)
        _release_holds(
            order=order, lines=lines, stock_by_product=stock_by_product, kind_reason="hold expired"
        )
    return _sell_again_or_refund(order=order, lines=lines, provider=provider, now=now)


def _sell_again_or_refund(*, order: Order, lines, provider: str, now) -> PaymentOutcome:
    """Late payment for an expired or cancelled order: sell from free stock if any."""
    try:
        with transaction.atomic():
            units = 0
            for line in sorted(lines, key=lambda item: item.product_id):
                if not line.product.tracks_stock:
                    continue
                stock_id, _on_hand, _reserved = _stock_units_claim(
                    product_id=line.product_id,
                    branch_id=order.branch_id,
                    quantity=line.quantity,
                    hold=False,
                )
                _movement(
                    stock_id=stock_id,
                    product_id=line.product_id,
                    branch_id=order.branch_id,
                    kind=StockMovement.Kind.SOLD,
                    on_hand_delta=-line.quantity,
                    order=order,
                    reason="paid after hold expired",
                    organisation_id=order.organisation_id,
                )
                units += line.quantity
            if order.flash_sale_id:
                # Sold after the window is still the sale's unit: it was bought in time.
                _sale_units_take(sale_id=order.flash_sale_id, quantity=units)
                _allowance_take(
                    organisation_id=order.organisation_id,
                    sale_id=order.flash_sale_id,
                    member_id=order.member_id,
                    quantity=units,
                    limit=order.flash_sale.per_member_limit,
                )
            Order.objects.filter(pk=order.pk).update(
                status=Order.Status.PAID,
                payment=Order.Payment.ONLINE,
                payment_provider=provider,
                paid_at=now,
            )
            _day_passes_grant(order=order, lines=lines, member=order.member, actor=None, now=now)
    except _Lost:
        Order.objects.filter(pk=order.pk).update(
            status=Order.Status.REFUND_DUE, payment_provider=provider, paid_at=now
        )
        order.refresh_from_db()
        if order.member_id and order.member.email:
            email_enqueue(
                to=order.member.email,
                template="inventory/refund_due",
                context={"order_number": order.number, "member_name": order.member.first_name},
                organisation_id=order.organisation_id,
                dedupe_key=f"inventory.refund_due:{order.pk}",
            )
        return PaymentOutcome(order=order, sold=False)
    order.refresh_from_db()
    return PaymentOutcome(order=order, sold=True)


# --- billing hooks --------------------------------------------------------------------


def _lock_orders(source_ids: list[str]) -> None:
    """Billing's lock hook: our rows in our lock order (allowance → stock → sale →
    order), before billing locks the invoice."""
    order_ids = sorted({int(pk) for pk in source_ids})
    rows = list(
        Order.objects.filter(pk__in=order_ids).values_list(
            "branch_id", "flash_sale_id", "member_id", "lines__product_id"
        )
    )
    allowance = Q(pk__in=[])
    for _branch, sale, member, _product in rows:
        if sale and member:
            allowance |= Q(sale_id=sale, member_id=member)
    list(
        FlashSaleAllowance.objects.filter(allowance).order_by("pk").select_for_update().values("pk")
    )
    stock = Q(pk__in=[])
    for branch, _sale, _member, product in rows:
        if product:
            stock |= Q(branch_id=branch, product_id=product)
    list(Stock.objects.filter(stock).order_by("pk").select_for_update().values("pk"))
    sale_ids = sorted({sale for _branch, sale, _member, _product in rows if sale})
    list(FlashSale.objects.filter(pk__in=sale_ids).order_by("pk").select_for_update().values("pk"))
    list(Order.objects.filter(pk__in=order_ids).order_by("pk").select_for_update().values("pk"))


def _on_order_invoice_paid(*, invoice, line) -> None:
    """An invoice with one of our orders on it is paid: turn the hold into a sale."""
    order = (
        Order.objects.select_related("member", "flash_sale").filter(pk=int(line.source_id)).first()
    )
    if order is None or order.status in (Order.Status.PAID, Order.Status.COLLECTED):
        return  # a front-desk sale (already complete) or a second line of the same order
    if order.status == Order.Status.REFUND_DUE:
        return
    last = invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
    outcome = order_mark_paid(order=order, provider=last.provider if last else "manual")
    if not outcome.sold:
        for payment in invoice.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk"):
            if payment.refundable > 0:
                refund_create(
                    payment=payment,
                    amount=payment.refundable,
                    reason="Order hold expired and the items sold out",
                )


def _register_billing_hooks() -> None:
    invoice_paid_handler(ORDER_SOURCE, lock=_lock_orders)(_on_order_invoice_paid)
