"""Money: revenue net of refunds and credit notes (tax apart), MRR, ARPM, AR, dunning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connections
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts.tenancy import require_scope
from billing.models import Invoice
from inventory.models import Category
from memberships.models import Plan
from reports.models import MonthlyMrr
from reports.rollups import month_ends
from reports.selectors.base import (
    ZERO,
    Period,
    Report,
    Table,
    _chart,
    _money,
    _rate,
    _raw,
    branch_totals,
    breakdown,
    figure_rows,
    totals,
)
from reports.selectors.members import active_members_at


def _t(model) -> str:
    return connections["default"].ops.quote_name(model._meta.db_table)


def net_revenue(row: dict) -> Decimal:
    return _money(row["invoiced_net"]) - _money(row["credited_net"])


def net_tax(row: dict) -> Decimal:
    return _money(row["invoiced_tax"]) - _money(row["credited_tax"])


def net_collected(row: dict) -> Decimal:
    return _money(row["collected"]) - _money(row["refunded"])


def mrr_series(period: Period) -> list[dict]:
    """MRR and ARR at each month end of the period, with the month's moves (rollups)."""
    months = month_ends(period.start, period.end)[1:]
    rows = (
        MonthlyMrr.objects.filter(month__in=months, branch_id__in=period.branch_ids)
        .values("month")
        .annotate(
            mrr=Sum("mrr"), new=Sum("new"), reactivated=Sum("reactivated"),
            expansion=Sum("expansion"), contraction=Sum("contraction"), churned=Sum("churned"),
        )
    )  # fmt: skip
    found = {row["month"]: row for row in rows}
    series = []
    for month in months:
        row = found.get(month, {})
        mrr = _money(row.get("mrr"))
        series.append(
            {
                "month": month,
                "mrr": mrr,
                "arr": mrr * 12,
                **{k: _money(row.get(k)) for k in MOVES},
            }
        )
    return series


MOVES = ("new", "reactivated", "expansion", "contraction", "churned")


AGE_BUCKETS = ("not_due", "0-30", "31-60", "61-90", "90+")


def receivables(period: Period, today: date) -> list[dict]:
    """Open invoices by how far past due they are (as of ``today``)."""
    sql = f"""
SELECT CASE WHEN i.due_date IS NULL OR i.due_date >= %(today)s THEN 'not_due'
            WHEN %(today)s - i.due_date <= 30 THEN '0-30'
            WHEN %(today)s - i.due_date <= 60 THEN '31-60'
            WHEN %(today)s - i.due_date <= 90 THEN '61-90'
            ELSE '90+' END AS age,
       count(*), sum(i.total - i.amount_paid - i.amount_credited)
FROM {_t(Invoice)} i
WHERE i.organisation_id = %(org)s AND i.status = 'open' AND i.branch_id = ANY(%(branches)s)
GROUP BY 1
"""
    found = {
        age: (n, amount)
        for age, n, amount in _raw(
            sql,
            {"org": require_scope().organisation_id, "today": today, "branches": period.branch_ids},
        )
    }
    return [
        {
            "age": age,
            "invoices": found.get(age, (0, 0))[0],
            "amount": _money(found.get(age, (0, 0))[1]),
        }
        for age in AGE_BUCKETS
    ]


def dunning(period: Period) -> dict:
    """Invoices that needed a retry, and how many were paid in the end."""
    sql = f"""
SELECT count(*), count(*) FILTER (WHERE i.status = 'paid'),
       COALESCE(sum(i.total) FILTER (WHERE i.status = 'paid'), 0)
FROM {_t(Invoice)} i JOIN accounts_branch b ON b.id = i.branch_id
WHERE i.organisation_id = %(org)s AND i.branch_id = ANY(%(branches)s)
  AND i.collection_attempts > 0
  AND (i.issued_at AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s
"""
    ((retried, recovered, amount),) = _raw(
        sql,
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "start": period.start,
            "end": period.end,
        },
    )
    return {
        "retried": retried,
        "recovered": recovered,
        "recovered_amount": _money(amount),
        "rate": _rate(recovered, retried),
    }


def _names(model, ids) -> dict[str, str]:
    ids = [int(i) for i in ids if str(i).isdigit()]
    return {
        str(pk): name for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")
    }


def money_report(period: Period) -> Report:
    report = Report("revenue", _("Revenue"), period)
    now, before = totals(period), totals(period.previous())
    active_end = active_members_at(period, period.end)
    active_start = active_members_at(period, period.start)
    average_active = Decimal(active_start + active_end) / 2
    revenue = net_revenue(now)
    arpm = (revenue / average_active).quantize(Decimal("0.01")) if average_active else None
    retries = dunning(period)
    report.kpis = [
        (_("Revenue (net of tax, refunds and credit notes)"), revenue, net_revenue(before)),
        (_("Tax"), net_tax(now), net_tax(before)),
        (_("Credit notes (net)"), _money(now["credited_net"]), _money(before["credited_net"])),
        (_("Collected less refunds"), net_collected(now), net_collected(before)),
        (_("Refunds"), _money(now["refunded"]), _money(before["refunded"])),
        (_("Average revenue per member"), arpm, None),
        (_("Failed payments"), now["failed_payments"], before["failed_payments"]),
        (_("Dunning recovery rate (%)"), retries["rate"], None),
    ]
    rows = figure_rows(period)
    labels = [key[0] for key in rows]
    report.charts.append(
        (
            _("Revenue and tax"),
            "bar",
            _chart(
                labels,
                [
                    (_("Revenue"), [net_revenue(r) for r in rows.values()]),
                    (_("Tax"), [net_tax(r) for r in rows.values()]),
                ],
            ),
        )
    )
    report.tables["revenue"] = Table(
        _("Revenue by %(grouping)s") % {"grouping": period.grouping},
        [
            _("Period"),
            _("Invoiced (net)"),
            _("Credit notes (net)"),
            _("Revenue"),
            _("Tax"),
            _("Collected"),
            _("Refunded"),
        ],
        [
            [
                key[0],
                _money(r["invoiced_net"]),
                _money(r["credited_net"]),
                net_revenue(r),
                net_tax(r),
                _money(r["collected"]),
                _money(r["refunded"]),
            ]
            for key, r in rows.items()
        ],
    )
    by_branch = branch_totals(period)
    names = {b.pk: b.name for b in period.branches}
    report.tables["branches"] = Table(
        _("Revenue by branch"),
        [_("Branch"), _("Revenue"), _("Tax"), _("Collected less refunds")],
        [
            [names.get(bid, bid), net_revenue(r), net_tax(r), net_collected(r)]
            for bid, r in sorted(by_branch.items(), key=lambda kv: names.get(kv[0], ""))
        ],
    )
    parts = breakdown(
        period, ("revenue_plan", "revenue_category", "revenue_other", "collected_method")
    )
    plans = _names(Plan, [key for kind, key in parts if kind == "revenue_plan"])
    categories = _names(Category, [key for kind, key in parts if kind == "revenue_category"])

    def rows_of(kind, labeller):
        found = [(labeller(key), v) for (k, key), v in parts.items() if k == kind]
        return sorted(found, key=lambda item: -item[1]["amount"])

    report.tables["plans"] = Table(
        _("Revenue by plan"),
        [_("Plan"), _("Revenue"), _("Tax"), _("Invoice lines")],
        [
            [name, _money(v["amount"]), _money(v["tax"]), v["count"]]
            for name, v in rows_of("revenue_plan", lambda k: plans.get(k, k))
        ],
    )
    other = rows_of("revenue_other", lambda k: _("Other charges"))
    report.tables["categories"] = Table(
        _("Revenue by product category"),
        [_("Category"), _("Revenue"), _("Tax"), _("Invoice lines")],
        [
            [name, _money(v["amount"]), _money(v["tax"]), v["count"]]
            for name, v in rows_of(
                "revenue_category", lambda k: categories.get(k, _("Uncategorised"))
            )
            + other
        ],
    )
    methods = rows_of("collected_method", lambda k: k)
    report.tables["methods"] = Table(
        _("Collected by payment method (less refunds)"),
        [_("Method"), _("Amount"), _("Payments")],
        [[name, _money(v["amount"]), v["count"]] for name, v in methods],
    )
    report.charts.append(
        (
            _("Collected by payment method"),
            "bar",
            _chart(
                [name for name, _v in methods], [(_("Amount"), [v["amount"] for _n, v in methods])]
            ),
        )
    )
    mrr = mrr_series(period)
    report.tables["mrr"] = Table(
        _("MRR and ARR by month"),
        [
            _("Month end"),
            _("MRR"),
            _("ARR"),
            _("New"),
            _("Reactivated"),
            _("Expansion"),
            _("Contraction"),
            _("Churned"),
        ],
        [
            [
                m["month"],
                m["mrr"],
                m["arr"],
                m["new"],
                m["reactivated"],
                m["expansion"],
                m["contraction"],
                m["churned"],
            ]
            for m in mrr
        ],
    )
    report.charts.append(
        (_("MRR"), "line", _chart([m["month"] for m in mrr], [(_("MRR"), [m["mrr"] for m in mrr])]))
    )
    ages = receivables(period, period.end)
    report.tables["receivables"] = Table(
        _("Outstanding invoices by days overdue"),
        [_("Days overdue"), _("Invoices"), _("Outstanding")],
        [
            [a["age"] if a["age"] != "not_due" else _("not yet due"), a["invoices"], a["amount"]]
            for a in ages
        ],
    )
    report.tables["dunning"] = Table(
        _("Failed payments and dunning"),
        [_("Invoices retried"), _("Recovered"), _("Recovered amount"), _("Recovery rate (%)")],
        [[retries["retried"], retries["recovered"], retries["recovered_amount"], retries["rate"]]],
    )
    return report


__all__ = ["ZERO", "money_report", "mrr_series", "net_revenue", "receivables"]
