"""The front-desk till: products and day passes sold over the counter, to a member or
a walk-in, paid at once or put on the member's account."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from billing.providers import ProviderError, get_provider
from billing.services import member_charge_add, payment_record
from gymsite.errors import ServiceError
from gymsite.outbox import email_enqueue
from inventory.models import Order, Product
from inventory.services.checks import _active_branch, _check_branch_allowed
from inventory.services.day_passes import _day_pass_holder, _day_passes_grant
from inventory.services.orders import (
    ORDER_LINE_SOURCE,
    _create_order_with_lines,
    _new_order_number,
    _order_invoice,
    _stock_ids_in_lock_order,
    _validated_items,
)
from inventory.services.stock import _order_stock_claim


@transaction.atomic
def pos_sale_create(
    *,
    branch: Branch,
    items,
    actor: User,
    member: Member | None = None,
    payment: str = Order.Payment.PAID_NOW,
    provider: str = "manual",
    reference: str = "",
    customer_name: str = "",
    customer_email: str = "",
) -> Order:
    """Sell over the counter: products and day passes, to a member or a walk-in.

    ``paid_now``: for a member, billing issues an invoice and records the payment
    (``provider``: manual — cash or card terminal — or another configured provider);
    for a walk-in, who has no account to invoice, the order itself is the paid receipt.
    ``account``: the total goes on the member's account, billed on their next invoice.
    Stock leaves the shelf at once (conditional updates: never below zero).
    """
    _active_branch(branch)
    _check_branch_allowed(branch)
    if payment not in (Order.Payment.PAID_NOW, Order.Payment.ACCOUNT):
        raise ServiceError("Choose how the customer pays.", code="invalid_payment", field="payment")
    if member is not None:
        if member.organisation_id != branch.organisation_id:
            raise ServiceError("Unknown member.", code="unknown_member", field="member")
        if member.status != Member.Status.ACTIVE:
            raise ServiceError("This member is archived.", code="member_archived", field="member")
    if payment == Order.Payment.ACCOUNT and member is None:
        raise ServiceError(
            "Only a member can put a purchase on their account.",
            code="account_needs_member",
            field="payment",
        )
    if payment == Order.Payment.PAID_NOW:
        try:
            get_provider(branch.organisation, provider)
        except ProviderError:
            raise ServiceError(
                "Unknown payment method.", code="invalid_provider", field="provider"
            ) from None
    items = _stock_ids_in_lock_order(
        branch=branch, items=_validated_items(items, organisation_id=branch.organisation_id)
    )
    if member is None and any(item.product.kind == Product.Kind.DAY_PASS for item in items):
        # A day pass is a ticket for a person: the walk-in becomes a member record the
        # door can recognise (checked in at the desk, or given a card there).
        member = _day_pass_holder(
            branch=branch, name=customer_name, email=customer_email, actor=actor
        )
    now = timezone.now()
    order, lines = _create_order_with_lines(
        branch=branch,
        items=items,
        number=_new_order_number("R"),
        channel=Order.Channel.POS,
        status=Order.Status.COLLECTED,
        payment=payment,
        payment_provider=provider if payment == Order.Payment.PAID_NOW else "",
        member=member,
        customer_name="" if member else customer_name.strip()[:150],
        customer_email=(member.email if member else customer_email.strip()),
        created_by=actor,
        paid_at=now,
        collected_at=now,
    )
    _order_stock_claim(order=order, items=items, hold=False, actor=actor, reason="front desk sale")
    if member is not None and payment == Order.Payment.PAID_NOW:
        invoice = _order_invoice(order, lines, actor=actor)
        payment_record(
            invoice=invoice,
            amount=invoice.total,
            provider=provider,
            reference=reference,
            actor=actor,
        )
    elif payment == Order.Payment.ACCOUNT:
        for line in lines:
            # Billed on the next invoice at the line's own rate (the product's or the
            # branch's), so the invoice equals this receipt.
            member_charge_add(
                member=member,
                branch=branch,
                description=f"{line.quantity} × {line.description} ({order.number})",
                amount=line.subtotal,
                tax_rate=line.tax_rate,
                source_type=ORDER_LINE_SOURCE,
                source_id=str(line.pk),
                actor=actor,
            )
    _day_passes_grant(order=order, lines=lines, member=member, actor=actor, now=now)
    audit_record(
        actor=actor,
        action="pos.sale",
        target=order,
        data={"total": str(order.total), "payment": payment},
    )
    if order.customer_email:
        _email_receipt(order)
    order.refresh_from_db()
    return order


def _email_receipt(order: Order) -> None:
    lines = list(order.lines.all())
    email_enqueue(
        to=order.customer_email,
        template="inventory/receipt",
        context={
            "number": order.number,
            "branch_name": order.branch.name,
            "date": timezone.localtime(order.paid_at or order.created_at).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "lines": [
                {
                    "quantity": line.quantity,
                    "description": line.description,
                    "total": str(line.line_total),
                }
                for line in lines
            ],
            "subtotal": str(order.subtotal),
            "tax_total": str(order.tax_total),
            "total": str(order.total),
            "currency": order.currency,
            "payment": str(order.get_payment_display()),
        },
        organisation_id=order.organisation_id,
        dedupe_key=f"inventory.receipt:{order.pk}",
    )
