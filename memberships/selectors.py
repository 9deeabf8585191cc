"""Read-side questions about memberships, shared by bookings, access and billing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import StrEnum

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q

from accounts.models import Branch, Member
from accounts.selectors import household_members
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
    latest start, then the latest row. The one place this rule is written: the hot
    paths (the booking read, the door) load a member's few memberships in one
    statement and sort them by it.
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
    ranked = memberships_ranked(member_memberships(member_id=member_id), on=on)
    return ranked[0] if ranked else None


def member_memberships(*, member_id: int) -> list[Membership]:
    """All of a member's memberships with their plans and the plans' branch and class
    category lists (``plan_branch_ids`` / ``plan_category_ids``): one query."""
    through_branches = Plan.branches.through.objects.filter(plan_id=OuterRef("plan_id"))
    through_categories = Plan.class_categories.through.objects.filter(plan_id=OuterRef("plan_id"))
    rows = list(
        Membership.objects.filter(member_id=member_id)
        .select_related("plan")
        .annotate(
            _branch_ids=ArraySubquery(through_branches.values("branch_id")),
            _category_ids=ArraySubquery(through_categories.values("classcategory_id")),
        )
    )
    for membership in rows:
        plan_lists_attach(
            membership.plan,
            branch_ids=membership._branch_ids,
            category_ids=membership._category_ids,
        )
    return rows


def memberships_ranked(memberships, *, on: date) -> list[Membership]:
    """A member's memberships, best first (``membership_rank``)."""
    return sorted(memberships, key=membership_rank(on))


def membership_candidates(ranked: list[Membership], *, on: date) -> Iterator[Membership]:
    """The memberships to try, in order, when a member wants to use one on a date.

    The deciding one (the first ranked) first, whatever its status: its refusal is
    the one to report. Then the member's other memberships usable that day (active,
    covering the date), best first: a member may hold two (a membership for their
    home branch and a day pass bought for another), and the newer pass must not lock
    them out of home. Bookings, the door and the offline allow-list all try these.
    """
    for index, membership in enumerate(ranked):
        if index and membership_status_on(membership=membership, on=on) != Membership.Status.ACTIVE:
            return  # ranked by cover, then status: nothing usable follows
        yield membership


def membership_status_on(*, membership: Membership, on: date) -> str:
    """The effective status on a date: an active membership past its end is expired."""
    ended = membership.end_date is not None and membership.end_date < on
    if ended and membership.status in (Membership.Status.ACTIVE, Membership.Status.FROZEN):
        return Membership.Status.EXPIRED
    if membership.start_date > on and membership.status == Membership.Status.ACTIVE:
        return Membership.Status.PENDING
    return membership.status


# --- the plan rules: may this membership be used for this ------------------------------


class Refusal(StrEnum):
    """Why a membership may not be used (``membership_refusal``): the one set of codes.

    Bookings report them as they are (the API's error codes); the door maps them onto
    its stored ``access.models.Reason`` values in one table.
    """

    NO_MEMBERSHIP = "no_membership"
    PENDING = "membership_pending"
    FROZEN = "membership_frozen"
    PAST_DUE = "membership_past_due"
    SUSPENDED = "membership_suspended"
    CANCELLED = "membership_cancelled"
    EXPIRED = "membership_expired"
    TICKET_NOT_YET_VALID = "ticket_not_yet_valid"
    TICKET_EXPIRED = "ticket_expired"
    BRANCH = "plan_branch"
    CATEGORY = "plan_category"
    TIME = "plan_time"
    NO_CREDITS = "no_credits"
    NO_ENTRIES = "no_entries_left"


_STATUS_REFUSALS = {
    Membership.Status.PENDING: Refusal.PENDING,
    Membership.Status.FROZEN: Refusal.FROZEN,
    Membership.Status.PAST_DUE: Refusal.PAST_DUE,
    Membership.Status.SUSPENDED: Refusal.SUSPENDED,
    Membership.Status.CANCELLED: Refusal.CANCELLED,
    Membership.Status.EXPIRED: Refusal.EXPIRED,
}


@dataclass(frozen=True)
class Use:
    """What a member wants a membership for: to enter a branch on a day (at a local
    time, when the caller checks the plan's hours), or to take a class there."""

    branch_id: int
    on: date
    local_time: time | None = None  # None: the plan's hours are checked elsewhere (offline)
    for_class: bool = False
    category_id: int | None = None  # the class type's category, for a class
    needs_credit: bool = False  # a class pack's credit is taken for it
    needs_entry: bool = False  # a ticket's entry must be left (the door settles its own)


def membership_refusal(membership: Membership | None, *, use: Use) -> Refusal | None:
    """Why ``membership`` may not be used for ``use``, or None when it may.

    In order: its status that day, the ticket's validity dates, the plan's branches,
    class categories and hours, then credits and entries left. The plan's branch and
    category lists come from ``plan_branch_ids`` / ``plan_category_ids`` (loaded with
    the membership on the hot paths).
    """
    if membership is None:
        return Refusal.NO_MEMBERSHIP
    status = membership_status_on(membership=membership, on=use.on)
    if status != Membership.Status.ACTIVE:
        return _STATUS_REFUSALS[status]
    plan = membership.plan
    if plan.valid_from and use.on < plan.valid_from:
        return Refusal.TICKET_NOT_YET_VALID
    if plan.valid_until and use.on > plan.valid_until:
        return Refusal.TICKET_EXPIRED
    if not _opens(plan_branch_ids(plan), use.branch_id):
        return Refusal.BRANCH
    if use.for_class and not _opens(plan_category_ids(plan), use.category_id):
        return Refusal.CATEGORY
    if use.local_time is not None and not plan_allows_time(plan=plan, local_time=use.local_time):
        return Refusal.TIME
    # None: a plan without credits / entries (unlimited). Read only when asked (the
    # door's read leaves credits deferred).
    if use.needs_credit and _used_up(membership.credits_remaining):
        return Refusal.NO_CREDITS
    if use.needs_entry and _used_up(membership.entries_remaining):
        return Refusal.NO_ENTRIES
    return None


def _used_up(left: int | None) -> bool:
    return left is not None and left <= 0


def _opens(ids, wanted) -> bool:
    """A plan's branch or category list: empty opens every one."""
    return not ids or wanted in ids


def plan_lists_attach(plan: Plan, *, branch_ids=None, category_ids=None) -> None:
    """Give a plan its branch and/or category lists, read with it (hot paths: no
    query each). None leaves that list to be read when asked for."""
    if branch_ids is not None:
        plan._branch_ids = list(branch_ids)
    if category_ids is not None:
        plan._category_ids = list(category_ids)


def plan_branch_ids(plan: Plan) -> list[int]:
    """The plan's branches (empty: every branch), whatever the caller's branch scope.

    Read from the relation's through table (not scoped): ``plan.branches.all()``
    under a one-branch scope (a device, front desk) would list only that branch, and
    a plan limited to *other* branches would look like "every branch".
    """
    loaded = getattr(plan, "_branch_ids", None)
    if loaded is not None:
        return loaded
    scope = get_scope()
    if (
        "branches" in getattr(plan, "_prefetched_objects_cache", {})
        and scope
        and (scope.branch_ids is None)
    ):
        return [b.pk for b in plan.branches.all()]
    return list(
        Plan.branches.through.objects.filter(plan_id=plan.pk).values_list("branch_id", flat=True)
    )


def plan_category_ids(plan: Plan) -> list[int]:
    """The plan's class categories (empty: every category)."""
    loaded = getattr(plan, "_category_ids", None)
    if loaded is not None:
        return loaded
    if "class_categories" in getattr(plan, "_prefetched_objects_cache", {}):
        return [c.pk for c in plan.class_categories.all()]
    return list(
        Plan.class_categories.through.objects.filter(plan_id=plan.pk).values_list(
            "classcategory_id", flat=True
        )
    )


def plan_allows_branch(*, plan: Plan, branch_id: int) -> bool:
    return _opens(plan_branch_ids(plan), branch_id)


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


def household_member_ids(*, member: Member) -> list[int]:
    return list(household_members(member=member).values_list("pk", flat=True))


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
