"""Returns: goods taken back over the counter, restocked (unless damaged), and the
money given back the way it came."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F

from accounts.models import User
from accounts.services import audit_record
from billing.models import Invoice, Payment, PendingCharge
from billing.services import (
    credit_note_issue,
    member_charge_add,
    member_charge_cancel,
    refund_create,
)
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize
from inventory.models import Order, OrderLine, Stock, StockMovement
from inventory.services.checks import _check_branch_allowed, _positive_quantity
from inventory.services.orders import ORDER_LINE_SOURCE
from inventory.services.stock import _movement, _stock_row
from memberships.services import ticket_entries_withdraw


@transaction.atomic
def order_line_return(
    *,
    line: OrderLine,
    quantity: int,
    actor: User,
    reason: str,
    restock: bool = True,
) -> OrderLine:
    """Take goods back: stock returns to the shelf (unless damaged) and money goes back
    the way it came (refund of the invoice's payment, a credit note on an open
    invoice, a smaller account charge, or cash for a walk-in's receipt)."""
    quantity = _positive_quantity(quantity)
    if not reason.strip():
        raise ServiceError("Say why the goods come back.", code="required", field="reason")
    order = Order.objects.select_related("branch", "member").get(pk=line.order_id)
    _check_branch_allowed(order.branch)
    if order.status not in (Order.Status.PAID, Order.Status.COLLECTED):
        raise Conflict("Only a completed sale can be returned.", code="not_sold")
    won = OrderLine.objects.filter(
        pk=line.pk, returned_quantity__lte=F("quantity") - quantity
    ).update(returned_quantity=F("returned_quantity") + quantity)
    if not won:
        raise ServiceError(
            "More than was bought (less anything already returned).",
            code="over_return",
            field="quantity",
        )
    line.refresh_from_db()
    if restock and line.product.tracks_stock:
        stock = _stock_row(product=line.product, branch=order.branch)
        Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
        _movement(
            stock_id=stock.pk,
            product_id=line.product_id,
            branch_id=order.branch_id,
            kind=StockMovement.Kind.RETURNED,
            on_hand_delta=quantity,
            order=order,
            actor=actor,
            reason=reason,
            organisation_id=order.organisation_id,
        )
    if line.ticket_id is not None:
        # A day pass handed back: its unused entries no longer open the door.
        ticket_entries_withdraw(
            membership_id=line.ticket_id,
            entries=quantity,
            reason=f"Day pass returned, receipt {order.number}",
            actor=actor,
        )
    refund = quantize(line.line_total * quantity / line.quantity)
    _refund_order_amount(order=order, line=line, amount=refund, actor=actor, reason=reason)
    Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") + refund)
    audit_record(
        actor=actor,
        action="order.return",
        target=order,
        data={"line": line.pk, "quantity": quantity, "restock": restock, "refund": str(refund)},
    )
    return line


def _refund_order_amount(*, order: Order, line: OrderLine, amount: Decimal, actor, reason):
    if amount <= 0:
        return
    if order.payment == Order.Payment.ACCOUNT:
        _reduce_account_charge(order=order, line=line, amount=amount, actor=actor, reason=reason)
        return
    if order.invoice_id is None:
        return  # a walk-in's receipt: cash back over the counter, recorded on the order
    _refund_invoice(
        invoice=Invoice.objects.get(pk=order.invoice_id), amount=amount, actor=actor, reason=reason
    )


def _refund_invoice(*, invoice, amount: Decimal, actor, reason) -> None:
    """Money back on an invoice: a credit note while it is open, else refunds of its
    payments, oldest first."""
    if invoice.status == Invoice.Status.OPEN:
        credit_note_issue(
            invoice=invoice, amount=min(amount, invoice.amount_due), reason=reason, actor=actor
        )
        return
    left = amount
    for payment in Payment.objects.filter(
        invoice_id=invoice.pk, status=Payment.Status.SUCCEEDED
    ).order_by("pk"):
        part = min(left, payment.refundable)
        if part > 0:
            refund_create(payment=payment, amount=part, reason=reason, actor=actor)
            left -= part
        if left <= 0:
            break


def _reduce_account_charge(*, order, line, amount, actor, reason):
    charge = (
        PendingCharge.objects.filter(source_type=ORDER_LINE_SOURCE, source_id=str(line.pk))
        .exclude(status=PendingCharge.Status.CANCELLED)
        .select_related("invoice_line__invoice")
        .first()
    )
    if charge is None:
        return
    net = quantize(line.subtotal * (line.quantity - line.returned_quantity) / line.quantity)
    if charge.status == PendingCharge.Status.PENDING:
        # Not billed yet: the charge is replaced by one for what was kept.
        member_charge_cancel(charge=charge, actor=actor)
        if net > 0:
            member_charge_add(
                member=order.member,
                branch=order.branch,
                description=f"{line.quantity - line.returned_quantity} × {line.description} "
                f"({order.number})",
                amount=net,
                tax_rate=line.tax_rate,
                source_type=ORDER_LINE_SOURCE,
                source_id=str(line.pk),
                actor=actor,
            )
        return
    if charge.invoice_line_id:
        _refund_invoice(
            invoice=charge.invoice_line.invoice, amount=amount, actor=actor, reason=reason
        )
