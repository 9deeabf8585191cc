"""Entry tickets sold outside memberships (a day pass at the till): granting one,
its plan, and taking back unused entries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from gymsite.errors import ServiceError
from memberships.models import (
    Membership,
    MembershipStatusChange,
    Plan,
)
from memberships.services.transitions import (
    S,
    _lock,
    _save,
    _transition,
    _user,
)

# --- tickets sold elsewhere -----------------------------------------------------------


@transaction.atomic
def ticket_grant(
    *,
    member: Member,
    plan: Plan,
    on: date,
    entries: int,
    branch: Branch,
    reason: str,
    actor: User | None = None,
) -> Membership:
    """An entry ticket for one day, sold and paid outside memberships (a day pass at
    the till): active at once, no invoice of its own. The door decides on it like any
    ticket (the plan's branches, ``entries_remaining``, the one day)."""
    if plan.kind != Plan.Kind.ENTRY_TICKET or plan.organisation_id != member.organisation_id:
        raise ServiceError(_("Unknown plan."), code="unknown_plan", field="plan")
    if entries < 1:
        raise ServiceError(_("A ticket needs at least one entry."), code="invalid_entries")
    membership = Membership.objects.create(
        organisation_id=member.organisation_id,
        member=member,
        payer=member.billing_member,
        plan=plan,
        branch=branch,
        status=S.ACTIVE,
        start_date=on,
        end_date=on,
        current_period_start=on,
        current_period_end=on,
        auto_renew=False,
        price=plan.price,
        currency=plan.currency,
        entries_remaining=entries,
    )
    MembershipStatusChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_status="",
        to_status=S.ACTIVE,
        actor=_user(actor),
        reason=reason[:2000],
    )
    return membership


def day_ticket_plan_create(*, name: str, price: Decimal, currency: str, branch: Branch) -> Plan:
    """The plan behind a day pass sold at one branch's till: a one-entry ticket that
    opens that branch only. Retired from the start, so the membership shop never
    offers it; the till sells it (``ticket_grant``)."""
    plan = Plan.objects.create(
        organisation_id=branch.organisation_id,
        name=name[:150],
        kind=Plan.Kind.ENTRY_TICKET,
        status=Plan.Status.RETIRED,
        retired_at=timezone.now(),
        price=price,
        currency=currency,
        entries=1,
        auto_renew=False,
    )
    plan.branches.set([branch])
    return plan


@transaction.atomic
def ticket_entries_withdraw(
    *, membership_id: int, entries: int, reason: str, actor: User | None = None
) -> Membership:
    """Take back unused entries of a ticket sold elsewhere (a day pass returned at the
    till). Entries already used stay used; a ticket left with none is cancelled."""
    membership = _lock(membership_id)
    left = membership.entries_remaining or 0
    membership.entries_remaining = max(0, left - entries)
    _save(membership, "entries_remaining")
    if membership.entries_remaining == 0 and membership.status == S.ACTIVE:
        _transition(membership, S.CANCELLED, actor=actor, reason=reason)
    return membership
