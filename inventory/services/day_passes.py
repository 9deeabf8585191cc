"""Day passes sold at the till or in the shop: each unit becomes a one-entry ticket
for that day at that branch (``memberships`` owns tickets and their plans)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Branch, Member, User
from accounts.services import audit_record, member_register
from gymsite.errors import ServiceError
from inventory.models import DayPassPlan, Order, OrderLine, Product
from memberships.services import day_ticket_plan_create, ticket_grant


def _day_pass_holder(*, branch: Branch, name: str, email: str, actor: User) -> Member:
    first, _, last = name.strip().partition(" ")
    if not first:
        raise ServiceError(
            "Give the name of the person the day pass is for.",
            code="day_pass_needs_name",
            field="customer_name",
        )
    member = member_register(
        user=None,
        first_name=first[:150],
        last_name=(last.strip() or "-")[:150],
        home_branch=branch,
        email=email,
    )
    audit_record(actor=actor, action="pos.day_pass_member", target=member)
    return member


def _day_pass_plan(*, product: Product, branch: Branch):
    """The ticket plan this day pass grants at this branch, created on its first sale."""
    link = DayPassPlan.objects.filter(product=product, branch=branch).select_related("plan")
    found = link.first()
    if found is not None:
        return found.plan
    try:
        # Two first sales at once: the unique (product, branch) lets one create it.
        with transaction.atomic():
            plan = day_ticket_plan_create(
                name=f"{product.name} · {branch.name}",
                price=product.price,
                currency=product.currency,
                branch=branch,
            )
            DayPassPlan.objects.create(
                organisation_id=branch.organisation_id, product=product, branch=branch, plan=plan
            )
            return plan
    except IntegrityError:
        return link.get().plan


def _day_passes_grant(*, order: Order, lines, member: Member, actor: User | None, now) -> None:
    """Each day pass sold (at the till, or paid for in the shop) becomes a ticket for
    that day at that branch: one entry per unit, on the branch's local date of the
    sale or payment (the door decides on it like any ticket)."""
    branch = order.branch
    on = timezone.localtime(now, ZoneInfo(branch.timezone)).date()
    for line in lines:
        if line.product.kind != Product.Kind.DAY_PASS:
            continue
        ticket = ticket_grant(
            member=member,
            plan=_day_pass_plan(product=line.product, branch=branch),
            on=on,
            entries=line.quantity,
            branch=branch,
            reason=f"Day pass, receipt {order.number}",
            actor=actor,
        )
        OrderLine.objects.filter(pk=line.pk).update(ticket_id=ticket.pk)
        line.ticket_id = ticket.pk
