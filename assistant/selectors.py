"""Reads of the assistant: its settings, and the staff questions no other app answers yet."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db.models import Max, OuterRef, Q, Subquery

from access.models import AccessLog, Result
from accounts.models import Branch
from classes.models import ClassCategory, ClassType
from memberships.models import Membership

from .models import AssistantSetting, AssistantUsage

AT_RISK_DAYS = 14


def setting_for(*, organisation_id: int, branch_id: int | None) -> AssistantSetting | None:
    """The branch's own setting if it has one, else the gym's; None: switched off.

    Read across the caller's branch scope (``unscoped`` with the organisation named):
    a one-branch staff member is still governed by the gym-wide row.
    """
    rows = AssistantSetting.objects.unscoped().filter(
        Q(branch__isnull=True) | Q(branch_id=branch_id), organisation_id=organisation_id
    )
    by_branch = {row.branch_id: row for row in rows}
    return by_branch.get(branch_id) if branch_id in by_branch else by_branch.get(None)


def usage_today(*, organisation_id: int, day: date, user_id: int | None) -> AssistantUsage | None:
    return (
        AssistantUsage.objects.unscoped()
        .filter(organisation_id=organisation_id, day=day, user_id=user_id)
        .first()
    )


def gym_vocabulary() -> dict[str, list[str]]:
    """Names the answers are checked for and the built-in engine listens for."""
    return {
        "class_types": list(
            ClassType.objects.filter(is_active=True).values_list("name", flat=True)
        ),
        "categories": list(ClassCategory.objects.values_list("name", flat=True)),
        "branches": list(Branch.objects.filter(is_active=True).values_list("name", flat=True)),
    }


def members_at_risk(*, now: datetime, days: int = AT_RISK_DAYS, limit: int = 20) -> list[dict]:
    """Members with an active membership and no granted visit for ``days`` days.

    A simple, explainable signal (reports has no churn score yet): the last granted
    door entry, or none since the membership started. Longest absence first. Visits
    are branch-scoped, so a branch manager sees absences from their branches.
    """
    since = now - timedelta(days=days)
    last_visit = (
        AccessLog.objects.filter(member_id=OuterRef("member_id"), result=Result.GRANTED)
        .order_by()
        .values("member_id")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    rows = (
        Membership.objects.filter(
            status=Membership.Status.ACTIVE, start_date__lte=since.date(), member__status="active"
        )
        .annotate(last_visit=Subquery(last_visit))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=since))
        .select_related("plan")
        .order_by("last_visit", "member_id")
    )
    found, seen = [], set()
    for membership in rows[: limit * 2]:
        if membership.member_id in seen:
            continue
        seen.add(membership.member_id)
        found.append(
            {
                "member_number": membership.member_id,
                "plan": membership.plan.name,
                "last_visit": membership.last_visit.date().isoformat()
                if membership.last_visit
                else None,
                "days_since_visit": (now - membership.last_visit).days
                if membership.last_visit
                else None,
            }
        )
        if len(found) >= limit:
            break
    return found


def members_last_visit(*, member_id: int) -> date | None:
    last = (
        AccessLog.objects.filter(member_id=member_id, result=Result.GRANTED)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return last.date() if last else None
