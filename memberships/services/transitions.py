"""The membership status machine and what every membership write shares: the
allowed transitions (each recorded in ``MembershipStatusChange``), the row lock,
the member's email, the billing branch and the open invoices.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, User
from billing.models import Invoice
from gymsite.errors import Conflict, ServiceError
from gymsite.outbox import email_enqueue
from memberships.models import (
    Membership,
    MembershipStatusChange,
)

S = Membership.Status
MEMBERSHIP_SOURCE = "memberships.membership"
PLAN_CHANGE_SOURCE = "memberships.planchange"

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.ACTIVE: {S.FROZEN, S.PAST_DUE, S.CANCELLED, S.EXPIRED},
    S.FROZEN: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.PAST_DUE: {S.ACTIVE, S.SUSPENDED, S.CANCELLED, S.EXPIRED},
    S.SUSPENDED: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.CANCELLED: set(),
    S.EXPIRED: set(),
}
TERMINAL = {S.CANCELLED, S.EXPIRED}


def _today() -> date:
    return timezone.localdate()


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _transition(
    membership: Membership, to_status: str, *, actor: User | None, reason: str
) -> MembershipStatusChange:
    """Move a (locked) membership to a new status, or refuse; record the change."""
    from_status = membership.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise Conflict(
            _("A membership that is %(from)s cannot become %(to)s.")
            % {
                "from": Membership.Status(from_status).label.lower(),
                "to": Membership.Status(to_status).label.lower(),
            },
            code="invalid_transition",
        )
    membership.status = to_status
    Membership.objects.filter(pk=membership.pk).update(status=to_status, updated_at=timezone.now())
    return MembershipStatusChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_status=from_status,
        to_status=to_status,
        actor=_user(actor),
        reason=reason[:2000],
    )


def _lock(membership: Membership | int) -> Membership:
    pk = membership if isinstance(membership, int) else membership.pk
    try:
        return (
            Membership.objects.select_for_update(of=("self",))
            .select_related("plan", "member", "payer")
            .get(pk=pk)
        )
    except Membership.DoesNotExist:
        raise ServiceError(
            _("Unknown membership."), code="unknown_membership", field="membership"
        ) from None


def _lock_many(ids: list[str]) -> None:
    list(
        Membership.objects.filter(pk__in=[int(i) for i in ids])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )


def _save(membership: Membership, *fields: str) -> None:
    membership.save(update_fields=[*fields, "updated_at"])


def _notify(membership: Membership, template: str, dedupe: str, **context) -> None:
    email = membership.payer.email or membership.member.email
    if not email:
        return
    email_enqueue(
        to=email,
        template=f"memberships/{template}",
        context={
            "member_name": membership.member.first_name,
            "plan": membership.plan.name,
            "membership_path": f"/memberships/{membership.pk}/",
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in context.items()},
        },
        organisation_id=membership.organisation_id,
        dedupe_key=f"membership-{membership.pk}-{dedupe}",
    )


def _billing_branch(membership: Membership) -> Branch:
    if membership.branch_id:
        return Branch.objects.get(pk=membership.branch_id)
    return membership.member.home_branch


def membership_open_invoices(membership: Membership):
    return Invoice.objects.filter(
        status=Invoice.Status.OPEN,
        lines__source_type=MEMBERSHIP_SOURCE,
        lines__source_id=str(membership.pk),
    ).distinct()
