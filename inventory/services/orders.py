"""Orders: how one is built (items, prices, lines, billing's invoice) and how a held
order (shop or flash sale) is paid, online or at the desk, and collected.

A hold's lifecycle (expiry, cancellation, payment arriving) is in ``holds``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Branch, User
from accounts.services import audit_record
from billing.services import InvoiceLineSpec, invoice_collect, invoice_issue, payment_record
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize, tax_on
from inventory.models import Order, OrderLine, Product, Stock
from inventory.services.checks import _active_product, _check_branch_allowed, _positive_quantity

ORDER_SOURCE = "inventory.order"
# What a line put on a member's account is, to billing (a pending charge per line).
ORDER_LINE_SOURCE = "inventory.order_line"


def _new_order_number(prefix: str) -> str:
    # Random, not sequential: no shared counter row for hundreds of buyers to queue on.
    return f"{prefix}-{timezone.now():%y%m%d}-{secrets.token_hex(4).upper()}"


def _tax_rate(product: Product, branch: Branch) -> Decimal:
    return product.tax_rate if product.tax_rate is not None else branch.tax_rate


@dataclass(frozen=True)
class PricedLine:
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal


def _price_line(*, unit_price: Decimal, quantity: int, tax_rate: Decimal) -> PricedLine:
    """Price a line exactly as billing does, so a receipt equals its invoice."""
    subtotal = quantize(quantize(unit_price) * quantity)
    tax_amount = tax_on(subtotal, tax_rate)
    return PricedLine(subtotal=subtotal, tax_amount=tax_amount, total=subtotal + tax_amount)


@dataclass(frozen=True)
class ItemRequest:
    product: Product
    quantity: int


def _validated_items(items, *, organisation_id: int) -> list[ItemRequest]:
    if not items:
        raise ServiceError("Add at least one product.", code="no_items", field="items")
    merged: dict[int, ItemRequest] = {}
    for item in items:
        product, quantity = (item.product, item.quantity) if isinstance(item, ItemRequest) else item
        if product is None or product.organisation_id != organisation_id:
            raise ServiceError("Unknown product.", code="unknown_product", field="product")
        _active_product(product)
        quantity = _positive_quantity(quantity)
        if product.pk in merged:
            quantity = _positive_quantity(merged[product.pk].quantity + quantity)
        merged[product.pk] = ItemRequest(product=product, quantity=quantity)
    return sorted(merged.values(), key=lambda item: item.product.pk)


def _stock_ids_in_lock_order(*, branch: Branch, items: list[ItemRequest]) -> list[ItemRequest]:
    """Order the items by their stock row's pk: the one lock order for stock rows."""
    stock_ids = dict(
        Stock.objects.filter(
            branch=branch, product_id__in=[item.product.pk for item in items]
        ).values_list("product_id", "pk")
    )
    return sorted(items, key=lambda item: (stock_ids.get(item.product.pk, 0), item.product.pk))


def _create_order_with_lines(
    *, branch: Branch, items: list[ItemRequest], **order_fields
) -> tuple[Order, list[OrderLine]]:
    lines, subtotal, tax_total = [], Decimal("0.00"), Decimal("0.00")
    for item in items:
        rate = _tax_rate(item.product, branch)
        priced = _price_line(unit_price=item.product.price, quantity=item.quantity, tax_rate=rate)
        subtotal += priced.subtotal
        tax_total += priced.tax_amount
        lines.append(
            OrderLine(
                organisation_id=branch.organisation_id,
                product=item.product,
                description=item.product.name,
                quantity=item.quantity,
                unit_price=item.product.price,
                tax_rate=rate,
                subtotal=priced.subtotal,
                tax_amount=priced.tax_amount,
                line_total=priced.total,
            )
        )
    order = Order.objects.create(
        organisation_id=branch.organisation_id,
        branch=branch,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        currency=branch.organisation.currency,
        **order_fields,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    return order, lines


def _invoice_specs(order: Order, lines: list[OrderLine]):
    return [
        InvoiceLineSpec(
            description=f"{line.description} ({order.number})",
            quantity=line.quantity,
            unit_price=line.unit_price,
            currency=order.currency,
            source_type=ORDER_SOURCE,
            source_id=str(order.pk),
            tax_rate=line.tax_rate,
        )
        for line in lines
    ]


def _order_invoice(order: Order, lines: list[OrderLine], *, actor=None):
    """Billing's invoice for the order (issued once: the billing key makes it idempotent)."""
    invoice = invoice_issue(
        payer=order.member,
        branch=order.branch,
        lines=_invoice_specs(order, lines),
        actor=actor,
        billing_key=f"{ORDER_SOURCE}:{order.pk}",
        notify=False,
    )
    if order.invoice_id != invoice.pk:
        Order.objects.filter(pk=order.pk).update(invoice_id=invoice.pk)
        order.invoice_id = invoice.pk
    return invoice


def order_pay_online(*, order: Order, now=None) -> Order:
    """The member pays a held order (shop or flash sale) with their saved card.

    Outside any transaction: billing records the attempt, calls the provider with no
    lock held, and on success marks the invoice paid, which runs our paid handler
    (the hold becomes a sale) in billing's transaction.
    """
    now = now or timezone.now()
    invoice = _checkout_invoice(order=order, now=now)
    attempt = invoice_collect(invoice=invoice, now=now)
    order.refresh_from_db()
    if order.status in (Order.Status.PAID, Order.Status.COLLECTED):
        return order
    if attempt is not None and attempt.failure_code == "no_payment_method":
        raise ServiceError(
            "You have no saved card: add one in Billing, or pay at the desk when you collect.",
            code="no_payment_method",
        )
    message = (attempt.failure_message if attempt else "") or "The payment did not go through."
    raise ServiceError(message, code="payment_failed")


@transaction.atomic
def _checkout_invoice(*, order: Order, now):
    order = Order.objects.select_related("branch__organisation", "member").get(pk=order.pk)
    if order.status != Order.Status.HELD:
        raise Conflict("This order is not awaiting payment.", code="not_held")
    if order.expires_at <= now:
        raise Conflict(
            "Your hold has run out and the items went back on sale.", code="hold_expired"
        )
    if order.member_id is None:
        raise ServiceError("Only a member's order can be paid online.", code="no_member")
    return _order_invoice(order, list(order.lines.all()))


def order_pay_at_desk(
    *, order: Order, actor: User, provider: str = "manual", reference: str = "", now=None
) -> Order:
    """The front desk takes payment for a held order (shop or flash sale) at pickup."""
    now = now or timezone.now()
    _check_branch_allowed(order.branch)
    invoice = _checkout_invoice(order=order, now=now)
    payment_record(
        invoice=invoice,
        amount=invoice.amount_due,
        provider=provider,
        reference=reference,
        actor=actor,
    )
    order.refresh_from_db()
    return order


@transaction.atomic
def order_collect(*, order: Order, actor: User) -> Order:
    """The member picked up a paid order."""
    _check_branch_allowed(order.branch)
    won = Order.objects.filter(pk=order.pk, status=Order.Status.PAID).update(
        status=Order.Status.COLLECTED, collected_at=timezone.now()
    )
    if not won:
        raise Conflict("Only a paid order can be collected.", code="not_paid")
    order.refresh_from_db()
    audit_record(actor=actor, action="order.collect", target=order)
    return order
