"""Members: active over time, sign-ups, cancellations and churn, cohorts, LTV, freezes."""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.tenancy import require_scope
from memberships.models import Plan
from reports.db import read_memo
from reports.rollups import membership_end_sql
from reports.selectors.base import (
    Period,
    Report,
    Table,
    _chart,
    _money,
    _rate,
    _raw,
    branch_today,
    breakdown,
    figure_rows,
    totals,
)

EPOCH = date(2000, 1, 1)


def _since_epoch(period: Period, day: date, grouping: str = "day") -> Period:
    return Period(EPOCH, day, period.branches, grouping)


def _active_curve(period: Period) -> tuple[list[date], list[int]]:
    """Memberships in force at the end of each day with a change, up to today: one
    read of the rollups (started minus ended, summed day by day), kept for the page."""
    memo = read_memo()
    key = ("active_curve", tuple(period.branch_ids))
    if memo is not None and key in memo:
        return memo[key]
    today = max(branch_today(b) for b in period.branches)
    rows = figure_rows(Period(EPOCH, today, period.branches, "day"))
    days, values, running = [], [], 0
    for (day,), row in rows.items():
        running += row["memberships_started"] - row["memberships_ended"]
        days.append(day)
        values.append(running)
    if memo is not None:
        memo[key] = (days, values)
    return days, values


def active_members_at(period: Period, day: date) -> int:
    """Memberships in force at the end of ``day`` (started on or before it, not ended)."""
    days, values = _active_curve(period)
    index = bisect.bisect_right(days, day)
    return values[index - 1] if index else 0


def active_series(period: Period) -> list[tuple[date, int]]:
    """Active memberships at the end of each bucket of the period."""
    series = []
    for (bucket,), _row in figure_rows(period).items():
        last = {"day": bucket, "week": bucket + timedelta(days=6)}.get(
            period.grouping,
            (bucket.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
        )
        series.append((bucket, active_members_at(period, min(last, period.end))))
    return series


def active_by_plan_and_branch(period: Period) -> list[tuple[str, str, int]]:
    parts = breakdown(
        _since_epoch(period, period.end), ("started_plan", "ended_plan"), by_branch=True
    )
    counts: dict[tuple[str, int], int] = {}
    for (kind, plan_id, branch_id), v in parts.items():
        sign = 1 if kind == "started_plan" else -1
        counts[(plan_id, branch_id)] = counts.get((plan_id, branch_id), 0) + sign * v["count"]
    plans = dict(Plan.objects.filter(pk__in=[int(p) for p, _b in counts]).values_list("pk", "name"))
    names = {b.pk: b.name for b in period.branches}
    return sorted(
        (
            (plans.get(int(p), p), names.get(b, b), n)
            for (p, b), n in counts.items()
            if n and b in names
        ),
        key=lambda row: (str(row[0]), str(row[1])),
    )


def cohorts(period: Period, today: date, months: int = 12) -> list[list]:
    """Members by the month of their first membership, and the share still in force
    at the end of each of the next ``months`` months (a triangle: future cells empty)."""
    end = membership_end_sql(tz="b.timezone")
    sql = f"""
WITH ms AS (
    SELECT ms.member_id, ms.start_date, {end} AS end_day
    FROM memberships_membership ms
    JOIN accounts_member m ON m.id = ms.member_id
    JOIN accounts_branch b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
    WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending' AND b.id = ANY(%(branches)s)
),
firsts AS (
    SELECT member_id, date_trunc('month', min(start_date))::date AS cohort FROM ms GROUP BY 1
),
cells AS (
    SELECT f.cohort, k,
           (f.cohort + (k + 1) * interval '1 month' - interval '1 day')::date AS at, f.member_id
    FROM firsts f CROSS JOIN generate_series(1, %(months)s) AS k
    WHERE f.cohort BETWEEN %(first)s AND %(last)s
)
SELECT c.cohort, c.k, count(DISTINCT c.member_id), count(DISTINCT ms.member_id)
FROM cells c
LEFT JOIN ms ON ms.member_id = c.member_id AND ms.start_date <= c.at
     AND (ms.end_day IS NULL OR ms.end_day >= c.at)
WHERE c.at <= %(today)s
GROUP BY 1, 2 ORDER BY 1, 2
"""
    first = period.start.replace(day=1)
    rows = _raw(
        sql,
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "months": months,
            "first": first,
            "last": period.end,
            "today": today,
        },
    )
    sizes_sql = """
SELECT date_trunc('month', first_start)::date, count(*) FROM (
    SELECT ms.member_id, min(ms.start_date) AS first_start
    FROM memberships_membership ms
    JOIN accounts_member m ON m.id = ms.member_id
    WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending'
      AND COALESCE(ms.branch_id, m.home_branch_id) = ANY(%(branches)s)
    GROUP BY 1
) f WHERE first_start >= %(first)s AND first_start <= %(last)s GROUP BY 1 ORDER BY 1
"""
    sizes = _raw(
        sizes_sql,
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "first": first,
            "last": period.end,
        },
    )
    kept = {(cohort, k): still for cohort, k, _n, still in rows}
    table = []
    for cohort, size in sizes:
        cells = []
        for k in range(1, months + 1):
            still = kept.get((cohort, k))
            cells.append(None if still is None else _rate(still, size))
        table.append([cohort.strftime("%Y-%m"), size, *cells])
    return table


def lifetime(period: Period, today: date) -> dict:
    """Average membership length (days) and lifetime value (ARPM x months)."""
    end = membership_end_sql(tz="b.timezone")
    sql = f"""
SELECT count(*), avg(LEAST(COALESCE({end}, %(today)s), %(today)s) - ms.start_date + 1)
FROM memberships_membership ms
JOIN accounts_member m ON m.id = ms.member_id
JOIN accounts_branch b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending' AND b.id = ANY(%(branches)s)
  AND ms.start_date <= %(today)s
"""
    ((count, days),) = _raw(
        sql, {"org": require_scope().organisation_id, "today": today, "branches": period.branch_ids}
    )
    return {"memberships": count, "average_days": Decimal(days or 0).quantize(Decimal("0.1"))}


def freezes_in_force(period: Period, today: date) -> list[tuple[str, int]]:
    sql = """
SELECT b.name, count(*)
FROM memberships_membershipfreeze f
JOIN memberships_membership ms ON ms.id = f.membership_id
JOIN accounts_member m ON m.id = ms.member_id
JOIN accounts_branch b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
WHERE f.organisation_id = %(org)s AND f.status IN ('scheduled', 'active')
  AND f.start_date <= %(today)s AND COALESCE(f.ended_on, f.end_date) >= %(today)s
  AND b.id = ANY(%(branches)s)
GROUP BY b.name ORDER BY b.name
"""
    return _raw(
        sql, {"org": require_scope().organisation_id, "today": today, "branches": period.branch_ids}
    )


def members_report(period: Period) -> Report:
    report = Report("members", _("Members"), period)
    now, before = totals(period), totals(period.previous())
    active_end = active_members_at(period, period.end)
    active_before = active_members_at(period, period.start - timedelta(days=1))
    life = lifetime(period, period.end)
    revenue = _money(now["invoiced_net"]) - _money(now["credited_net"])
    months = Decimal(period.days) / Decimal("30.44")
    average_active = Decimal(active_before + active_end) / 2
    # Per month, against the average in force, so a year and a week compare.
    churn = (
        (Decimal(now["cancellations"]) * 100 / average_active / months).quantize(Decimal("0.1"))
        if average_active
        else None
    )
    arpm_month = revenue / average_active / months if average_active and months else None
    ltv = (
        (arpm_month * life["average_days"] / Decimal("30.44")).quantize(Decimal("0.01"))
        if arpm_month is not None
        else None
    )
    frozen = freezes_in_force(period, period.end)
    report.kpis = [
        (_("Active memberships (end of period)"), active_end, active_before),
        (_("Sign-ups"), now["signups"], before["signups"]),
        (_("Memberships started"), now["memberships_started"], before["memberships_started"]),
        (_("Cancellations"), now["cancellations"], before["cancellations"]),
        (_("Monthly churn rate (%)"), churn, None),
        (_("Average membership length (days)"), life["average_days"], None),
        (_("Lifetime value"), ltv, None),
        (_("Freezes in force"), sum(n for _b, n in frozen), None),
    ]
    series = active_series(period)
    report.charts.append(
        (
            _("Active memberships"),
            "line",
            _chart([d for d, _n in series], [(_("Active"), [n for _d, n in series])]),
        )
    )
    daily = figure_rows(Period(period.start, period.end, period.branches, "day"))
    report.charts.append(
        (
            _("Sign-ups per day"),
            "bar",
            _chart(
                [k[0] for k in daily], [(_("Sign-ups"), [r["signups"] for r in daily.values()])]
            ),
        )
    )
    report.tables["active"] = Table(
        _("Active memberships over time"),
        [_("Period"), _("Active at end"), _("Started"), _("Ended"), _("Sign-ups")],
        [
            [bucket, active, row["memberships_started"], row["memberships_ended"], row["signups"]]
            for (bucket, active), row in zip(series, figure_rows(period).values(), strict=True)
        ],
    )
    report.tables["by_plan"] = Table(
        _("Active memberships by plan and branch (end of period)"),
        [_("Plan"), _("Branch"), _("Active")],
        [list(row) for row in active_by_plan_and_branch(period)],
    )
    monthly = Period(period.start, period.end, period.branches, "month")
    churn_rows = []
    for (month,), row in figure_rows(monthly).items():
        at_start = active_members_at(period, max(month, period.start) - timedelta(days=1))
        churn_rows.append(
            [
                month.strftime("%Y-%m"),
                row["cancellations"],
                at_start,
                _rate(row["cancellations"], at_start),
            ]
        )
    report.tables["churn"] = Table(
        _("Cancellations and churn by month"),
        [_("Month"), _("Cancellations"), _("Active at start"), _("Churn rate (%)")],
        churn_rows,
    )
    reasons = breakdown(period, ("cancel_reason",))
    report.tables["reasons"] = Table(
        _("Cancellation reasons"),
        [_("Reason"), _("Cancellations")],
        sorted(
            ([key or _("(none given)"), v["count"]] for (_k, key), v in reasons.items()),
            key=lambda row: -row[1],
        ),
    )
    report.tables["cohorts"] = Table(
        _("Retention: share of each month's new members still active after N months (%)"),
        [_("Joined"), _("Members"), *[str(k) for k in range(1, 13)]],
        cohorts(period, period.end),
    )
    report.tables["freezes"] = Table(
        _("Freezes in force"), [_("Branch"), _("Frozen memberships")], [list(r) for r in frozen]
    )
    return report
