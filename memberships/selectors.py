"""Read-side questions about memberships, shared by bookings, access and billing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from decimal import Decimal

from django.db.models import Q

from accounts.models import Branch, Member
from accounts.tenancy import get_scope
from memberships.models import Membership, Plan

# When a member holds several memberships, the one that decides is the most usable.
STATUS_RANK = [
    Membership.Status.ACTIVE,
    Membership.Status.FROZEN,
    Membership.Status.PAST_DUE,
    Membership.Status.SUSPENDED,
    Membership.Status.PENDING,
    Membership.Status.EXPIRED,
    Membership.Status.CANCELLED,
]
_STATUS_ORDER = {status: index for index, status in enumerate(STATUS_RANK)}


def membership_rank(on: date) -> Callable[[Membership], tuple]:
    """The sort key that ranks a member's memberships for a date, best first.

    Covering the date first, then the most usable status (``STATUS_RANK``), then the
    latest start, then the latest row. The one place this rule is written in Python;
    the booking read has it in SQL (``bookings.selectors.booking_context``, tested
    against this).
    """

    def key(membership: Membership) -> tuple:
        covers = membership.start_date <= on and (
            membership.end_date is None or membership.end_date >= on
        )
        return (
            not covers,
            _STATUS_ORDER.get(membership.status, len(_STATUS_ORDER)),
            -membership.start_date.toordinal(),
            -membership.pk,
        )

    return key


def membership_deciding(*, member: Member | int, on: date) -> Membership | None:
    """The membership that decides what a member may do on a date, whatever its status.

    Prefers an active one covering the date; otherwise the most usable status, so a
    caller can say *why* access is refused (frozen, past_due, ...). Memberships that
    ended before the date count as expired. A member holds a few membership rows (a
    renewal extends its row), so they are ranked here rather than in the query.
    """
    member_id = member if isinstance(member, int) else member.pk
    rows = Membership.objects.filter(member_id=member_id).select_related("plan")
    return min(rows, key=membership_rank(on), default=None)


def membership_status_on(*, membership: Membership, on: date) -> str:
    """The effective status on a date: an active membership past its end is expired."""
    ended = membership.end_date is not None and membership.end_date < on
    if ended and membership.status in (Membership.Status.ACTIVE, Membership.Status.FROZEN):
        return Membership.Status.EXPIRED
    if membership.start_date > on and membership.status == Membership.Status.ACTIVE:
        return Membership.Status.PENDING
    return membership.status


def _plan_branch_ids(plan: Plan) -> list[int]:
    """The plan's branches, whatever the caller's branch scope.

    Read from the relation's through table (not scoped): ``plan.branches.all()``
    under a one-branch scope (a device, front desk) would list only that branch, and
    a plan limited to *other* branches would look like "every branch".
    """
    if (
        "branches" in getattr(plan, "_prefetched_objects_cache", {})
        and get_scope()
        and (get_scope().branch_ids is None)
    ):
        return [b.pk for b in plan.branches.all()]
    return list(
        Plan.branches.through.objects.filter(plan_id=plan.pk).values_list("branch_id", flat=True)
    )


def plan_allows_branch(*, plan: Plan, branch_id: int) -> bool:
    branch_ids = _plan_branch_ids(plan)
    return not branch_ids or branch_id in branch_ids


def plan_allows_category(*, plan: Plan, category_id: int | None) -> bool:
    category_ids = [c.pk for c in plan.class_categories.all()]
    return not category_ids or category_id in category_ids


def plan_allows_time(*, plan: Plan, local_time: time) -> bool:
    """Off-peak plans open only between access_from and access_until (local time)."""
    if plan.access_from is None or plan.access_until is None:
        return True
    if plan.access_from <= plan.access_until:
        return plan.access_from <= local_time < plan.access_until
    return local_time >= plan.access_from or local_time < plan.access_until


# --- portal, admin and API reads ---------------------------------------------------


def plans_on_sale(*, branch_id: int | None = None):
    """Plans a member can buy now (at a branch, if given), with what the page shows."""
    plans = Plan.objects.filter(status=Plan.Status.ACTIVE).prefetch_related(
        "branches", "class_categories"
    )
    if branch_id is not None:
        plans = plans.filter(Q(branches__isnull=True) | Q(branches=branch_id)).distinct()
    return plans.order_by("kind", "price", "name")


def consumer_tax_rate(*, member: Member | None = None) -> Decimal:
    """The tax rate a price on a public page includes: the member's home branch's, or for
    a visitor the gym's first open branch's (a membership is invoiced at a branch)."""
    if member is not None and member.home_branch_id:
        return member.home_branch.tax_rate
    branch = Branch.objects.filter(is_active=True).order_by("pk").first()
    return branch.tax_rate if branch else Decimal(0)


def member_may_act_for(*, actor: Member | None, member: Member) -> bool:
    """A member acts for themselves and, as household payer, for their dependants."""
    if actor is None:
        return False
    return member.pk == actor.pk or member.payer_id == actor.pk


def household_member_ids(*, member: Member) -> list[int]:
    return [member.pk, *Member.objects.filter(payer=member).values_list("pk", flat=True)]


def memberships_for_household(*, member: Member):
    """The memberships a member sees in the portal: their own and their dependants'."""
    return (
        Membership.objects.filter(member_id__in=household_member_ids(member=member))
        .select_related("plan", "member", "payer")
        .prefetch_related("freezes")
        .order_by("member__first_name", "-start_date", "-pk")
    )


def membership_history(*, membership: Membership):
    return membership.status_changes.select_related("actor").order_by("-created_at", "-pk")
