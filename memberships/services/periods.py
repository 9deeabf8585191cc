"""Billing periods and terms: what a membership of a plan covers from a start date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from memberships.models import (
    Plan,
)

# --- periods -----------------------------------------------------------------------


def bills_periodically(plan: Plan) -> bool:
    return bool(plan.billing_interval) and plan.kind in (Plan.Kind.RECURRING, Plan.Kind.UNLIMITED)


def period_end_for(plan: Plan, start: date) -> date:
    """Last day (inclusive) of a billing period of ``plan`` starting on ``start``."""
    count = max(plan.interval_count, 1)
    if plan.billing_interval == Plan.Interval.WEEK:
        return start + timedelta(weeks=count) - timedelta(days=1)
    if plan.billing_interval == Plan.Interval.YEAR:
        return start + relativedelta(years=count) - timedelta(days=1)
    return start + relativedelta(months=count) - timedelta(days=1)


@dataclass(frozen=True)
class Term:
    start: date
    period_end: date | None
    end_date: date | None
    credits: int | None
    entries: int | None


def term_for(plan: Plan, start: date) -> Term:
    """What a membership of ``plan`` starting on ``start`` covers."""
    if plan.kind == Plan.Kind.ENTRY_TICKET and plan.valid_from and plan.valid_from > start:
        start = plan.valid_from
    if bills_periodically(plan):
        return Term(start, period_end_for(plan, start), None, plan.credits, plan.entries)
    end = None
    if plan.kind == Plan.Kind.ENTRY_TICKET:
        end = plan.valid_until
        if plan.credit_validity_days:
            by_days = start + timedelta(days=plan.credit_validity_days - 1)
            end = min(end, by_days) if end else by_days
    elif plan.kind == Plan.Kind.CLASS_PACK and plan.credit_validity_days:
        end = start + timedelta(days=plan.credit_validity_days - 1)
    elif plan.duration_days:
        end = start + timedelta(days=plan.duration_days - 1)
    return Term(start, end, end, plan.credits, plan.entries)
