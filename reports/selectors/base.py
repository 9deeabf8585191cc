"""Report figures: past days from the rollups, today from the live tables.

Every function takes a ``Period`` (dates, branches, grouping) already narrowed to
the caller's branches (``period_for``), and returns a ``Report``: headline
figures with the previous period beside them, charts, and tables that the pages,
the CSV/XLSX downloads and the API all render from.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch
from accounts.tenancy import require_scope
from gymsite.errors import ServiceError
from reports import rollups
from reports.db import read_memo, report_alias
from reports.models import DailyBreakdown, DailyFigures

GROUPINGS = ("day", "week", "month")
MAX_DAYS = 3 * 366 + 31
ZERO = Decimal("0.00")
SUM_FIELDS = tuple(
    f
    for f in rollups.FIGURE_COLUMNS
    if f not in ("organisation_id", "branch_id", "day", "checkins_by_hour")
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    branches: tuple[Branch, ...]
    grouping: str = "day"

    @property
    def branch_ids(self) -> list[int]:
        return [b.pk for b in self.branches]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        length = timedelta(days=self.days)
        return Period(self.start - length, self.end - length, self.branches, self.grouping)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": [[_plain(v) for v in row] for row in self.rows],
        }


@dataclass
class Report:
    area: str
    title: str
    period: Period
    kpis: list[tuple[str, object, object]] = field(default_factory=list)  # label, now, before
    charts: list[tuple[str, str, str]] = field(default_factory=list)  # title, kind, json
    tables: dict[str, Table] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "area": self.area,
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
            "branches": self.period.branch_ids,
            "grouping": self.period.grouping,
            "figures": [
                {"label": label, "value": _plain(now), "previous": _plain(before)}
                for label, now, before in self.kpis
            ],
            "tables": {name: table.as_dict() for name, table in self.tables.items()},
        }


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def visible_branches() -> list[Branch]:
    """The branches the caller may report on (the tenant scope narrows branch staff)."""
    return list(Branch.objects.order_by("name", "pk"))


def period_for(
    *, start: date | None, end: date | None, branch_ids=None, grouping: str = "day"
) -> Period:
    """Validate a report's filters; branches outside the caller's scope are refused."""
    allowed = visible_branches()
    if not allowed:
        raise ServiceError(_("You have no branches to report on."), code="no_branches")
    zone = ZoneInfo(allowed[0].timezone)
    today = timezone.now().astimezone(zone).date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise ServiceError(_("The start is after the end."), code="bad_range", field="start")
    if (end - start).days + 1 > MAX_DAYS:
        raise ServiceError(_("At most three years at a time."), code="bad_range", field="start")
    if grouping not in GROUPINGS:
        raise ServiceError(_("Choose day, week or month."), code="bad_grouping", field="group")
    by_id = {b.pk: b for b in allowed}
    if branch_ids:
        wanted = {int(b) for b in branch_ids}
        unknown = wanted - set(by_id)
        if unknown:
            raise ServiceError(
                _("Unknown branch: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))},
                code="unknown_branch",
                field="branch",
            )
        branches = tuple(b for b in allowed if b.pk in wanted)
    else:
        branches = tuple(allowed)
    return Period(start, end, branches, grouping)


def branch_today(branch: Branch, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(branch.timezone)).date()


def _bucket(day: date, grouping: str) -> date:
    if grouping == "week":
        return day - timedelta(days=day.weekday())
    if grouping == "month":
        return day.replace(day=1)
    return day


def _live_pairs(period: Period) -> list[tuple[int, date]]:
    pairs = []
    for branch in period.branches:
        today = branch_today(branch)
        if period.start <= today <= period.end:
            pairs.append((branch.pk, today))
    return pairs


def _rollup_filter(period: Period) -> Q:
    """Rollup rows of the period, without each branch's today (read live instead)."""
    by_today = defaultdict(list)
    for branch in period.branches:
        by_today[branch_today(branch)].append(branch.pk)
    condition = Q(pk__in=[])
    for today, ids in by_today.items():
        condition |= Q(branch_id__in=ids, day__lt=today)
    return condition & Q(day__gte=period.start, day__lte=period.end)


def _cursor():
    return connections[report_alias()].cursor()


def _live(sql: str, columns, period: Period) -> list[dict]:
    """Today's rows computed from the live tables, once per report build: inside
    ``report_reads()`` a page that asks several times reads them once."""
    pairs = tuple(_live_pairs(period))
    if not pairs:
        return []
    organisation_id = require_scope().organisation_id
    memo = read_memo()
    key = (sql, organisation_id, pairs)
    if memo is not None and key in memo:
        return memo[key]
    params = rollups.pair_params(organisation_id=organisation_id, pairs=list(pairs))
    with _cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    if memo is not None:
        memo[key] = rows
    return rows


def _live_figures(period: Period) -> list[dict]:
    return _live(rollups.figures_select_sql(), rollups.FIGURE_COLUMNS, period)


def _live_breakdown(period: Period, kinds) -> list[dict]:
    rows = _live(rollups.breakdown_select_sql(), rollups.BREAKDOWN_COLUMNS, period)
    return [r for r in rows if r["kind"] in kinds]


def figure_rows(period: Period, *, by_branch: bool = False) -> dict[tuple, dict]:
    """Summed figures keyed by (bucket,) or (bucket, branch_id)."""
    trunc = {"week": TruncWeek("day"), "month": TruncMonth("day")}.get(period.grouping)
    rows = DailyFigures.objects.filter(_rollup_filter(period))
    keys = ["bucket", "branch_id"] if by_branch else ["bucket"]
    rows = rows.annotate(bucket=trunc if trunc is not None else F("day"))
    rows = rows.values(*keys).annotate(**{f: Sum(f) for f in SUM_FIELDS}).order_by(*keys)
    out: dict[tuple, dict] = {}
    for row in rows:
        bucket = row["bucket"]
        if isinstance(bucket, datetime):
            bucket = bucket.date()
        key = (bucket, row["branch_id"]) if by_branch else (bucket,)
        out[key] = {f: row[f] or 0 for f in SUM_FIELDS}
    for live in _live_figures(period):
        bucket = _bucket(live["day"], period.grouping)
        key = (bucket, live["branch_id"]) if by_branch else (bucket,)
        into = out.setdefault(key, dict.fromkeys(SUM_FIELDS, 0))
        for f in SUM_FIELDS:
            into[f] += live[f] or 0
    return dict(sorted(out.items()))


def branch_totals(period: Period) -> dict[int, dict]:
    """The period's figures summed per branch (one row per branch, not per day)."""
    rows = (
        DailyFigures.objects.filter(_rollup_filter(period))
        .values("branch_id")
        .annotate(**{f: Sum(f) for f in SUM_FIELDS})
        .order_by("branch_id")
    )
    out = {row["branch_id"]: {f: row[f] or 0 for f in SUM_FIELDS} for row in rows}
    for live in _live_figures(period):
        into = out.setdefault(live["branch_id"], dict.fromkeys(SUM_FIELDS, 0))
        for f in SUM_FIELDS:
            into[f] += live[f] or 0
    return out


def totals(period: Period) -> dict:
    summed = dict.fromkeys(SUM_FIELDS, 0)
    for row in figure_rows(period).values():
        for f in SUM_FIELDS:
            summed[f] += row[f]
    return summed


def breakdown(period: Period, kinds: tuple[str, ...], *, by_branch=False) -> dict[tuple, dict]:
    """Summed breakdown rows keyed by (kind, key) or (kind, key, branch_id)."""
    keys = ["kind", "key", "branch_id"] if by_branch else ["kind", "key"]
    rows = (
        DailyBreakdown.objects.filter(_rollup_filter(period), kind__in=kinds)
        .values(*keys)
        .annotate(amount=Sum("amount"), tax=Sum("tax"), count=Sum("count"))
    )
    out: dict[tuple, dict] = {}
    for row in rows:
        out[tuple(row[k] for k in keys)] = {
            "amount": row["amount"],
            "tax": row["tax"],
            "count": row["count"],
        }
    for live in _live_breakdown(period, kinds):
        key = tuple(live[k] for k in keys)
        into = out.setdefault(key, {"amount": ZERO, "tax": ZERO, "count": 0})
        for f in ("amount", "tax", "count"):
            into[f] += live[f]
    return out


def _chart(labels, datasets) -> str:
    return json.dumps(
        {
            "labels": [str(label) for label in labels],
            "datasets": [
                {"label": name, "data": [float(v) for v in values]} for name, values in datasets
            ],
        }
    )


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _rate(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _raw(sql: str, params: dict) -> list[tuple]:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
