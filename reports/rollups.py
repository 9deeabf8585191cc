"""Daily rollups: per branch and local day, rebuilt with set-based SQL.

``rollup_rebuild`` recomputes any (branch, day) pairs from the raw tables, so a
rollup row is always a pure function of the raw rows (the rollup-equals-raw test
proves it). ``rollup_fold`` is the periodic job: it finds which (branch, day)
pairs rows changed since its watermark touch, and rebuilds only those.

Days are the branch's local days: a timestamp counts on
``(ts AT TIME ZONE branch.timezone)::date``, so a DST day has 23 or 25 hours and a
branch in another zone closes its day at its own midnight.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

from django.db import connections, transaction
from django.utils import timezone

from access.models import AccessLog
from accounts.models import Branch, Member
from billing.models import CreditNote, Invoice, InvoiceLine, Payment, Refund
from bookings.models import Appointment, Booking
from classes.models import ClassSession
from inventory.models import Order, OrderLine, Product
from memberships.models import Membership, Plan
from reports.models import (
    DailyBreakdown,
    DailyFigures,
    MemberMonthVisits,
    MonthlyMrr,
    RollupState,
)

# Source types written by memberships and inventory on invoice lines (their public names).
MEMBERSHIP_LINE = "memberships.membership"
PLAN_CHANGE_LINE = "memberships.planchange"
ORDER_LINE_LINE = "inventory.order_line"

# Overlap with the watermark: a row committed a little after its timestamp (a long
# transaction) is still folded on the next run.
FOLD_OVERLAP = timedelta(minutes=10)
# A visit: a granted entry through the door, not a re-entry on the same visit.
VISIT = "a.result = 'granted' AND a.direction = 'in' AND a.reason <> 'reentry'"


def _t(model) -> str:
    return connections["default"].ops.quote_name(model._meta.db_table)


# Where each kind of row lands: (branch expression, local-day expression, table, alias).
# One place, shared by the rebuild and by the fold's "what changed" query.
def membership_end_sql(alias: str = "ms", tz: str = "b.timezone") -> str:
    """The last day a membership was in force, or NULL while it still is."""
    return (
        f"CASE WHEN {alias}.status IN ('cancelled', 'expired', 'suspended') THEN "
        f"COALESCE(LEAST({alias}.cancels_on, {alias}.end_date), "
        f"({alias}.updated_at AT TIME ZONE {tz})::date) END"
    )


@functools.cache
def figures_select_sql() -> str:
    """The figures of the given (branch, day) pairs, in FIGURE_COLUMNS order."""
    end = membership_end_sql()
    return f"""
WITH pairs AS (
    SELECT p.branch_id, p.day, b.timezone AS tz
    FROM unnest(%(branches)s::bigint[], %(days)s::date[]) AS p(branch_id, day)
    JOIN {_t(Branch)} b ON b.id = p.branch_id AND b.organisation_id = %(org)s
),
signups AS (
    SELECT m.home_branch_id AS branch_id, (m.joined_at AT TIME ZONE b.timezone)::date AS day,
           count(*) AS n
    FROM {_t(Member)} m JOIN {_t(Branch)} b ON b.id = m.home_branch_id
    WHERE m.organisation_id = %(org)s AND m.joined_at >= %(lo)s AND m.joined_at < %(hi)s
    GROUP BY 1, 2
),
ms AS (
    SELECT COALESCE(ms.branch_id, m.home_branch_id) AS branch_id, ms.start_date,
           {end} AS end_day, ms.status
    FROM {_t(Membership)} ms
    JOIN {_t(Member)} m ON m.id = ms.member_id
    JOIN {_t(Branch)} b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
    WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending'
),
started AS (
    SELECT branch_id, start_date AS day, count(*) AS n FROM ms
    WHERE start_date BETWEEN %(first)s AND %(last)s GROUP BY 1, 2
),
ended AS (
    SELECT branch_id, end_day AS day, count(*) AS n,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled
    FROM ms WHERE end_day BETWEEN %(first)s AND %(last)s GROUP BY 1, 2
),
visit_hours AS (
    SELECT a.branch_id, (a.occurred_at AT TIME ZONE b.timezone)::date AS day,
           extract(hour FROM a.occurred_at AT TIME ZONE b.timezone)::int AS h, count(*) AS n
    FROM {_t(AccessLog)} a JOIN {_t(Branch)} b ON b.id = a.branch_id
    WHERE a.organisation_id = %(org)s AND a.occurred_at >= %(lo)s AND a.occurred_at < %(hi)s
      AND {VISIT}
    GROUP BY 1, 2, 3
),
visits AS (
    SELECT p.branch_id, p.day, sum(COALESCE(v.n, 0))::int AS n,
           array_agg(COALESCE(v.n, 0)::int ORDER BY g.h) AS by_hour
    FROM pairs p CROSS JOIN generate_series(0, 23) AS g(h)
    LEFT JOIN visit_hours v ON v.branch_id = p.branch_id AND v.day = p.day AND v.h = g.h
    GROUP BY 1, 2
),
sessions AS (
    SELECT s.branch_id, (s.starts_at AT TIME ZONE b.timezone)::date AS day,
           count(*) AS n, sum(s.capacity) AS capacity
    FROM {_t(ClassSession)} s JOIN {_t(Branch)} b ON b.id = s.branch_id
    WHERE s.organisation_id = %(org)s AND s.starts_at >= %(lo)s AND s.starts_at < %(hi)s
      AND s.status = 'scheduled'
    GROUP BY 1, 2
),
bookings AS (
    SELECT s.branch_id, (s.starts_at AT TIME ZONE b.timezone)::date AS day,
           count(*) FILTER (WHERE bk.status IN ('booked', 'attended', 'no_show')) AS booked,
           count(*) FILTER (WHERE bk.status = 'attended') AS attended,
           count(*) FILTER (WHERE bk.status = 'no_show') AS no_shows,
           count(*) FILTER (WHERE bk.status = 'late_cancelled') AS late_cancels,
           count(*) FILTER (WHERE bk.status = 'waitlisted' OR bk.promoted_at IS NOT NULL)
               AS waitlisted
    FROM {_t(Booking)} bk
    JOIN {_t(ClassSession)} s ON s.id = bk.session_id
    JOIN {_t(Branch)} b ON b.id = s.branch_id
    WHERE bk.organisation_id = %(org)s AND s.starts_at >= %(lo)s AND s.starts_at < %(hi)s
    GROUP BY 1, 2
),
pt AS (
    SELECT ap.branch_id, (ap.starts_at AT TIME ZONE b.timezone)::date AS day, count(*) AS n
    FROM {_t(Appointment)} ap JOIN {_t(Branch)} b ON b.id = ap.branch_id
    WHERE ap.organisation_id = %(org)s AND ap.starts_at >= %(lo)s AND ap.starts_at < %(hi)s
      AND ap.status IN ('booked', 'attended', 'no_show')
    GROUP BY 1, 2
),
invoiced AS (
    SELECT i.branch_id, (i.issued_at AT TIME ZONE b.timezone)::date AS day,
           sum(i.subtotal) AS net, sum(i.tax_total) AS tax
    FROM {_t(Invoice)} i JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE i.organisation_id = %(org)s AND i.issued_at >= %(lo)s AND i.issued_at < %(hi)s
      AND i.status IN ('open', 'paid', 'uncollectible')
    GROUP BY 1, 2
),
credited AS (
    SELECT i.branch_id, (c.created_at AT TIME ZONE b.timezone)::date AS day,
           round(sum(CASE WHEN i.total > 0 THEN c.amount * i.subtotal / i.total
                          ELSE c.amount END), 2) AS net,
           sum(c.amount) AS total
    FROM {_t(CreditNote)} c
    JOIN {_t(Invoice)} i ON i.id = c.invoice_id
    JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE c.organisation_id = %(org)s AND c.created_at >= %(lo)s AND c.created_at < %(hi)s
    GROUP BY 1, 2
),
payments AS (
    SELECT pm.branch_id,
           (COALESCE(pm.completed_at, pm.created_at) AT TIME ZONE b.timezone)::date AS day,
           sum(pm.amount) FILTER (WHERE pm.status = 'succeeded') AS collected,
           count(*) FILTER (WHERE pm.status = 'failed') AS failed
    FROM {_t(Payment)} pm JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE pm.organisation_id = %(org)s
      AND COALESCE(pm.completed_at, pm.created_at) >= %(lo)s
      AND COALESCE(pm.completed_at, pm.created_at) < %(hi)s
    GROUP BY 1, 2
),
refunds AS (
    SELECT pm.branch_id,
           (COALESCE(r.completed_at, r.created_at) AT TIME ZONE b.timezone)::date AS day,
           sum(r.amount) AS amount
    FROM {_t(Refund)} r
    JOIN {_t(Payment)} pm ON pm.id = r.payment_id
    JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE r.organisation_id = %(org)s AND r.status = 'succeeded'
      AND COALESCE(r.completed_at, r.created_at) >= %(lo)s
      AND COALESCE(r.completed_at, r.created_at) < %(hi)s
    GROUP BY 1, 2
),
shop AS (
    SELECT o.branch_id, (COALESCE(o.paid_at, o.created_at) AT TIME ZONE b.timezone)::date AS day,
           sum(ol.quantity - ol.returned_quantity) AS units,
           round(sum(ol.subtotal * (ol.quantity - ol.returned_quantity) / ol.quantity), 2) AS net
    FROM {_t(OrderLine)} ol
    JOIN {_t(Order)} o ON o.id = ol.order_id
    JOIN {_t(Branch)} b ON b.id = o.branch_id
    WHERE o.organisation_id = %(org)s AND o.status IN ('paid', 'collected')
      AND COALESCE(o.paid_at, o.created_at) >= %(lo)s
      AND COALESCE(o.paid_at, o.created_at) < %(hi)s
    GROUP BY 1, 2

)
SELECT %(org)s, p.branch_id, p.day,
       COALESCE(su.n, 0), COALESCE(st.n, 0), COALESCE(en.n, 0), COALESCE(en.cancelled, 0),
       v.n, v.by_hour, COALESCE(se.n, 0), COALESCE(se.capacity, 0),
       COALESCE(bk.booked, 0), COALESCE(bk.attended, 0), COALESCE(bk.no_shows, 0),
       COALESCE(bk.late_cancels, 0), COALESCE(bk.waitlisted, 0), COALESCE(pt.n, 0),
       COALESCE(iv.net, 0), COALESCE(iv.tax, 0), COALESCE(cr.net, 0),
       COALESCE(cr.total - cr.net, 0), COALESCE(pa.collected, 0), COALESCE(rf.amount, 0),
       COALESCE(pa.failed, 0), COALESCE(sh.units, 0), COALESCE(sh.net, 0)
FROM pairs p
JOIN visits v ON v.branch_id = p.branch_id AND v.day = p.day
LEFT JOIN signups su ON su.branch_id = p.branch_id AND su.day = p.day
LEFT JOIN started st ON st.branch_id = p.branch_id AND st.day = p.day
LEFT JOIN ended en ON en.branch_id = p.branch_id AND en.day = p.day
LEFT JOIN sessions se ON se.branch_id = p.branch_id AND se.day = p.day
LEFT JOIN bookings bk ON bk.branch_id = p.branch_id AND bk.day = p.day
LEFT JOIN pt ON pt.branch_id = p.branch_id AND pt.day = p.day
LEFT JOIN invoiced iv ON iv.branch_id = p.branch_id AND iv.day = p.day
LEFT JOIN credited cr ON cr.branch_id = p.branch_id AND cr.day = p.day
LEFT JOIN payments pa ON pa.branch_id = p.branch_id AND pa.day = p.day
LEFT JOIN refunds rf ON rf.branch_id = p.branch_id AND rf.day = p.day
LEFT JOIN shop sh ON sh.branch_id = p.branch_id AND sh.day = p.day
"""


@functools.cache
def breakdown_select_sql() -> str:
    """(organisation, branch, day, kind, key, amount, tax, count) of the given pairs."""
    end = membership_end_sql()
    return f"""
WITH pairs AS (
    SELECT p.branch_id, p.day
    FROM unnest(%(branches)s::bigint[], %(days)s::date[]) AS p(branch_id, day)
    JOIN {_t(Branch)} b ON b.id = p.branch_id AND b.organisation_id = %(org)s
),
line_keys AS (
    SELECT l.id, l.invoice_id, l.subtotal, l.tax_amount, l.total,
           CASE WHEN l.source_type = '{MEMBERSHIP_LINE}' THEN 'revenue_plan'
                WHEN l.source_type = '{PLAN_CHANGE_LINE}' THEN 'revenue_plan'
                WHEN l.source_type = '{ORDER_LINE_LINE}' THEN 'revenue_category'
                ELSE 'revenue_other' END AS kind,
           CASE WHEN l.source_type = '{MEMBERSHIP_LINE}' THEN ms.plan_id::text
                WHEN l.source_type = '{PLAN_CHANGE_LINE}' THEN pms.plan_id::text
                WHEN l.source_type = '{ORDER_LINE_LINE}' THEN COALESCE(pr.category_id::text, '')
                ELSE '' END AS key
    FROM {_t(InvoiceLine)} l
    LEFT JOIN {_t(Membership)} ms ON l.source_type = '{MEMBERSHIP_LINE}'
         AND ms.id::text = l.source_id
    LEFT JOIN memberships_planchange pc ON l.source_type = '{PLAN_CHANGE_LINE}'
         AND pc.id::text = l.source_id
    LEFT JOIN {_t(Membership)} pms ON pms.id = pc.membership_id
    LEFT JOIN {_t(OrderLine)} ol ON l.source_type = '{ORDER_LINE_LINE}'
         AND ol.id::text = l.source_id
    LEFT JOIN {_t(Product)} pr ON pr.id = ol.product_id
    WHERE l.invoice_id IN (
        SELECT i.id FROM {_t(Invoice)} i
        WHERE i.organisation_id = %(org)s AND i.issued_at >= %(lo)s AND i.issued_at < %(hi)s
        UNION
        SELECT c.invoice_id FROM {_t(CreditNote)} c
        WHERE c.organisation_id = %(org)s AND c.created_at >= %(lo)s AND c.created_at < %(hi)s
    )
),
revenue AS (
    SELECT i.branch_id, (i.issued_at AT TIME ZONE b.timezone)::date AS day, lk.kind, lk.key,
           lk.subtotal AS net, lk.tax_amount AS tax, 1 AS n
    FROM line_keys lk
    JOIN {_t(Invoice)} i ON i.id = lk.invoice_id
    JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE i.issued_at >= %(lo)s AND i.issued_at < %(hi)s
      AND i.status IN ('open', 'paid', 'uncollectible')
    UNION ALL
    -- A credit note takes back from each line its share of the invoice.
    SELECT i.branch_id, (c.created_at AT TIME ZONE b.timezone)::date, lk.kind, lk.key,
           -c.amount * lk.subtotal / NULLIF(i.total, 0),
           -c.amount * lk.tax_amount / NULLIF(i.total, 0), 0
    FROM {_t(CreditNote)} c
    JOIN {_t(Invoice)} i ON i.id = c.invoice_id
    JOIN line_keys lk ON lk.invoice_id = i.id
    JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE c.created_at >= %(lo)s AND c.created_at < %(hi)s AND i.total > 0
),
methods AS (
    SELECT pm.branch_id,
           (COALESCE(pm.completed_at, pm.created_at) AT TIME ZONE b.timezone)::date AS day,
           'collected_method' AS kind, pm.provider AS key, pm.amount AS net, 0 AS tax, 1 AS n
    FROM {_t(Payment)} pm JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE pm.organisation_id = %(org)s AND pm.status = 'succeeded'
      AND COALESCE(pm.completed_at, pm.created_at) >= %(lo)s
      AND COALESCE(pm.completed_at, pm.created_at) < %(hi)s
    UNION ALL
    SELECT pm.branch_id, (COALESCE(r.completed_at, r.created_at) AT TIME ZONE b.timezone)::date,
           'collected_method', pm.provider, -r.amount, 0, 0
    FROM {_t(Refund)} r
    JOIN {_t(Payment)} pm ON pm.id = r.payment_id
    JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE r.organisation_id = %(org)s AND r.status = 'succeeded'
      AND COALESCE(r.completed_at, r.created_at) >= %(lo)s
      AND COALESCE(r.completed_at, r.created_at) < %(hi)s
),
ms AS (
    SELECT COALESCE(ms.branch_id, m.home_branch_id) AS branch_id, ms.plan_id, ms.start_date,
           {end} AS end_day, ms.status, ms.cancellation_reason
    FROM {_t(Membership)} ms
    JOIN {_t(Member)} m ON m.id = ms.member_id
    JOIN {_t(Branch)} b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
    WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending'
),
memberships AS (
    SELECT branch_id, start_date AS day, 'started_plan' AS kind, plan_id::text AS key,
           0 AS net, 0 AS tax, 1 AS n
    FROM ms WHERE start_date BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT branch_id, end_day, 'ended_plan', plan_id::text, 0, 0, 1
    FROM ms WHERE end_day BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT branch_id, end_day, 'cancel_reason',
           left(COALESCE(NULLIF(btrim(cancellation_reason), ''), ''), 255), 0, 0, 1
    FROM ms WHERE status = 'cancelled' AND end_day BETWEEN %(first)s AND %(last)s
),
products AS (
    SELECT o.branch_id, (COALESCE(o.paid_at, o.created_at) AT TIME ZONE b.timezone)::date AS day,
           'product_sales' AS kind, ol.product_id::text AS key,
           ol.subtotal * (ol.quantity - ol.returned_quantity) / ol.quantity AS net, 0 AS tax,
           ol.quantity - ol.returned_quantity AS n
    FROM {_t(OrderLine)} ol
    JOIN {_t(Order)} o ON o.id = ol.order_id
    JOIN {_t(Branch)} b ON b.id = o.branch_id
    WHERE o.organisation_id = %(org)s AND o.status IN ('paid', 'collected')
      AND COALESCE(o.paid_at, o.created_at) >= %(lo)s
      AND COALESCE(o.paid_at, o.created_at) < %(hi)s
),
everything AS (
    SELECT * FROM revenue UNION ALL SELECT * FROM methods
    UNION ALL SELECT * FROM memberships UNION ALL SELECT * FROM products

)
SELECT %(org)s, e.branch_id, e.day, e.kind, e.key, round(sum(e.net), 2), round(sum(e.tax), 2),
       sum(e.n)
FROM everything e JOIN pairs p ON p.branch_id = e.branch_id AND p.day = e.day
GROUP BY e.branch_id, e.day, e.kind, e.key
"""


def _visits_sql(where: str) -> str:
    """Members' visits per local month, for the rows ``where`` picks."""
    return f"""
INSERT INTO {_t(MemberMonthVisits)} (organisation_id, member_id, month, visits, last_visit)
SELECT %(org)s, a.member_id,
       date_trunc('month', a.occurred_at AT TIME ZONE b.timezone)::date AS month,
       count(*), max(a.occurred_at)
FROM {_t(AccessLog)} a JOIN {_t(Branch)} b ON b.id = a.branch_id
WHERE a.organisation_id = %(org)s AND a.member_id IS NOT NULL AND {VISIT} AND {where}
GROUP BY 2, 3
"""


def _rebuild_visit_months(*, organisation_id: int, first: date, last: date) -> None:
    """Every member's visits for the local months first..last (whole months)."""
    first, last = first.replace(day=1), last.replace(day=1)
    params = {"org": organisation_id, "first": first, "last": last, **_bounds([first, last])}
    params["hi"] = params["hi"] + timedelta(days=31)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_t(MemberMonthVisits)} WHERE organisation_id = %(org)s "
            "AND month BETWEEN %(first)s AND %(last)s",
            params,
        )
        cursor.execute(
            _visits_sql(
                "a.occurred_at >= %(lo)s AND a.occurred_at < %(hi)s AND "
                "date_trunc('month', a.occurred_at AT TIME ZONE b.timezone)::date "
                "BETWEEN %(first)s AND %(last)s"
            ),
            params,
        )


def _rebuild_member_months(*, organisation_id: int, since_log_id: int) -> None:
    """Redo the (member, month)s that access-log rows after ``since_log_id`` fall in."""
    if since_log_id == 0:
        # The first run: every month there is.
        with connections["default"].cursor() as cursor:
            cursor.execute(
                f"SELECT min(occurred_at) FROM {_t(AccessLog)} WHERE organisation_id = %s",
                [organisation_id],
            )
            (first,) = cursor.fetchone()
        if first is not None:
            _rebuild_visit_months(
                organisation_id=organisation_id,
                first=first.date() - timedelta(days=1),
                last=timezone.now().date() + timedelta(days=1),
            )
        return
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"""
CREATE TEMPORARY TABLE reports_touched ON COMMIT DROP AS
SELECT DISTINCT a.member_id, date_trunc('month', a.occurred_at AT TIME ZONE b.timezone)::date
       AS month
FROM {_t(AccessLog)} a JOIN {_t(Branch)} b ON b.id = a.branch_id
WHERE a.organisation_id = %(org)s AND a.id > %(log_id)s AND a.member_id IS NOT NULL
""",
            {"org": organisation_id, "log_id": since_log_id},
        )
        cursor.execute(
            f"DELETE FROM {_t(MemberMonthVisits)} v USING reports_touched t "
            "WHERE v.member_id = t.member_id AND v.month = t.month",
        )
        # By member (the access log's member index), from the earliest month touched.
        cursor.execute(
            f"""
INSERT INTO {_t(MemberMonthVisits)} (organisation_id, member_id, month, visits, last_visit)
SELECT %(org)s, v.member_id, v.month, v.visits, v.last_visit
FROM (
    SELECT a.member_id, date_trunc('month', a.occurred_at AT TIME ZONE b.timezone)::date AS month,
           count(*) AS visits, max(a.occurred_at) AS last_visit
    FROM {_t(AccessLog)} a JOIN {_t(Branch)} b ON b.id = a.branch_id
    WHERE a.organisation_id = %(org)s AND {VISIT}
      AND a.member_id IN (SELECT DISTINCT member_id FROM reports_touched)
      AND a.occurred_at >= (SELECT min(month) FROM reports_touched) - interval '1 day'
    GROUP BY 1, 2
) v JOIN reports_touched t ON t.member_id = v.member_id AND t.month = v.month
""",
            {"org": organisation_id},
        )
        cursor.execute("DROP TABLE reports_touched")


def month_ends(first: date, last: date) -> list[date]:
    """Last days of the months from the one before ``first`` (the baseline) to ``last``'s."""
    cursor = (first.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = []
    while cursor <= last:
        following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        months.append(following - timedelta(days=1))
        cursor = following
    return months


@functools.cache
def _mrr_sql() -> str:
    """MRR at each month end per branch, and the month's moves, member by member:
    new (nothing before), reactivated (had a membership before), expansion,
    contraction, churned — each member compared with the previous month end."""
    end = membership_end_sql()
    return f"""
WITH months AS (
    SELECT n - 1 AS n, m FROM unnest(%(months)s::date[]) WITH ORDINALITY AS t(m, n)
),
ms AS (
    SELECT ms.member_id, b.id AS branch_id, ms.start_date, {end} AS end_day,
           ms.price * CASE p.billing_interval WHEN 'week' THEN 52.0 / 12
                                              WHEN 'year' THEN 1.0 / 12 ELSE 1 END
           / GREATEST(p.interval_count, 1) AS monthly
    FROM {_t(Membership)} ms
    JOIN {_t(Plan)} p ON p.id = ms.plan_id
    JOIN {_t(Member)} m ON m.id = ms.member_id
    JOIN {_t(Branch)} b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
    WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending' AND p.billing_interval <> ''
),
firsts AS (SELECT member_id, min(start_date) AS first_start FROM ms GROUP BY 1),
per AS (
    SELECT mo.n, ms.member_id, ms.branch_id, sum(ms.monthly) AS mrr
    FROM months mo JOIN ms ON ms.start_date <= mo.m AND (ms.end_day IS NULL OR ms.end_day >= mo.m)
    GROUP BY 1, 2, 3
),
moves AS (
    SELECT COALESCE(c.n, p.n + 1) AS n, COALESCE(c.member_id, p.member_id) AS member_id,
           COALESCE(c.branch_id, p.branch_id) AS branch_id,
           COALESCE(c.mrr, 0) AS now, COALESCE(p.mrr, 0) AS before
    FROM per c FULL OUTER JOIN per p
         ON p.member_id = c.member_id AND p.branch_id = c.branch_id AND p.n = c.n - 1
)
SELECT %(org)s, v.branch_id, mo.m,
       round(sum(v.now), 2),
       round(COALESCE(sum(v.now) FILTER (WHERE v.before = 0 AND f.first_start > pm.m), 0), 2),
       round(COALESCE(sum(v.now) FILTER (WHERE v.before = 0 AND f.first_start <= pm.m), 0), 2),
       round(COALESCE(sum(v.now - v.before)
                      FILTER (WHERE v.before > 0 AND v.now > v.before), 0), 2),
       round(COALESCE(sum(v.before - v.now)
                      FILTER (WHERE v.now > 0 AND v.now < v.before), 0), 2),
       round(COALESCE(sum(v.before) FILTER (WHERE v.now = 0 AND v.before > 0), 0), 2)
FROM months mo
JOIN months pm ON pm.n = mo.n - 1
JOIN moves v ON v.n = mo.n
LEFT JOIN firsts f ON f.member_id = v.member_id
GROUP BY v.branch_id, mo.m
"""


MRR_COLUMNS = (
    "organisation_id", "branch_id", "month", "mrr", "new", "reactivated", "expansion",
    "contraction", "churned",
)  # fmt: skip


def _rebuild_mrr(*, organisation_id: int, first: date, last: date) -> None:
    months = month_ends(first, last)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_t(MonthlyMrr)} WHERE organisation_id = %(org)s "
            "AND month = ANY(%(months)s::date[])",
            {"org": organisation_id, "months": months[1:]},
        )
        cursor.execute(
            f"INSERT INTO {_t(MonthlyMrr)} ({', '.join(MRR_COLUMNS)}) {_mrr_sql()}",
            {"org": organisation_id, "months": months},
        )


def _bounds(days: list[date]) -> dict:
    first, last = min(days), max(days)
    # Local days of any zone (UTC-12 to UTC+14) fall inside this UTC window.
    lo = datetime.combine(first - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(last + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    return {"first": first, "last": last, "lo": lo, "hi": hi}


def _rebuild_pairs(*, organisation_id: int, pairs: list[tuple[int, date]]) -> int:
    """Rebuild (branch, day) pairs, a window of days at a time: each statement reads
    only its window of the source tables (scattered days would widen it)."""
    by_window: dict[int, list[tuple[int, date]]] = {}
    for branch_id, day in set(pairs):
        by_window.setdefault(day.toordinal() // REBUILD_SLICE_DAYS, []).append((branch_id, day))
    for window in sorted(by_window):
        _rebuild_window(organisation_id=organisation_id, pairs=sorted(by_window[window]))
    return len(set(pairs))


def _rebuild_window(*, organisation_id: int, pairs: list[tuple[int, date]]) -> None:
    params = pair_params(organisation_id=organisation_id, pairs=pairs)
    with connections["default"].cursor() as cursor:
        for table, select in (
            (DailyFigures, figures_select_sql()),
            (DailyBreakdown, breakdown_select_sql()),
        ):
            cursor.execute(
                f"DELETE FROM {_t(table)} d USING unnest(%(branches)s::bigint[], "
                "%(days)s::date[]) AS p(branch_id, day) "
                "WHERE d.branch_id = p.branch_id AND d.day = p.day AND d.organisation_id = %(org)s",
                params,
            )
            columns = FIGURE_COLUMNS if table is DailyFigures else BREAKDOWN_COLUMNS
            cursor.execute(f"INSERT INTO {_t(table)} ({', '.join(columns)}) {select}", params)


def pair_params(*, organisation_id: int, pairs: list[tuple[int, date]]) -> dict:
    return {
        "org": organisation_id,
        "branches": [b for b, _ in pairs],
        "days": [d for _, d in pairs],
        **_bounds([d for _, d in pairs]),
    }


def _branch_ids(organisation_id: int, branch_ids=None) -> list[int]:
    rows = Branch.objects.unscoped().filter(organisation_id=organisation_id)
    if branch_ids is not None:
        rows = rows.filter(pk__in=branch_ids)
    return list(rows.order_by("pk").values_list("pk", flat=True))


# Rebuilding a long range in one statement would hold a big snapshot: go in slices.
REBUILD_SLICE_DAYS = 31


@transaction.atomic
def _rebuild_slice(organisation_id, branches, first, last) -> int:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return _rebuild_pairs(
        organisation_id=organisation_id, pairs=[(b, d) for b in branches for d in days]
    )


def rollup_rebuild(*, organisation_id: int, start: date, end: date, branch_ids=None) -> int:
    """Recompute the rollups of every branch (or the given ones) for start..end."""
    branches = _branch_ids(organisation_id, branch_ids)
    if branch_ids is None:
        # Visits per member and month are for the whole gym (a member visits any branch).
        with transaction.atomic():
            _rebuild_visit_months(organisation_id=organisation_id, first=start, last=end)
            _rebuild_mrr(organisation_id=organisation_id, first=start, last=end)
    done = 0
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=REBUILD_SLICE_DAYS - 1))
        done += _rebuild_slice(organisation_id, branches, first, last)
        first = last + timedelta(days=1)
    return done


@functools.cache
def _changed_sql() -> str:
    """(branch, local day) pairs touched by rows changed in (since, until]."""
    end = membership_end_sql()
    return f"""
SELECT DISTINCT branch_id, day FROM (
    SELECT m.home_branch_id AS branch_id, (m.joined_at AT TIME ZONE b.timezone)::date AS day
    FROM {_t(Member)} m JOIN {_t(Branch)} b ON b.id = m.home_branch_id
    WHERE m.organisation_id = %(org)s AND m.joined_at > %(since)s AND m.joined_at <= %(until)s
    UNION ALL
    SELECT COALESCE(ms.branch_id, m.home_branch_id), d
    FROM {_t(Membership)} ms
    JOIN {_t(Member)} m ON m.id = ms.member_id
    JOIN {_t(Branch)} b ON b.id = COALESCE(ms.branch_id, m.home_branch_id)
    CROSS JOIN LATERAL (VALUES (ms.start_date), ({end})) AS v(d)
    WHERE ms.organisation_id = %(org)s AND ms.updated_at > %(since)s
      AND ms.updated_at <= %(until)s AND d IS NOT NULL
    UNION ALL
    SELECT a.branch_id, (a.occurred_at AT TIME ZONE b.timezone)::date
    FROM {_t(AccessLog)} a JOIN {_t(Branch)} b ON b.id = a.branch_id
    WHERE a.organisation_id = %(org)s AND a.id > %(log_id)s
    UNION ALL
    SELECT s.branch_id, (s.starts_at AT TIME ZONE b.timezone)::date
    FROM {_t(Booking)} bk
    JOIN {_t(ClassSession)} s ON s.id = bk.session_id
    JOIN {_t(Branch)} b ON b.id = s.branch_id
    WHERE bk.organisation_id = %(org)s
      AND GREATEST(bk.created_at, bk.cancelled_at, bk.promoted_at, bk.attendance_marked_at)
          > %(since)s
    UNION ALL
    SELECT s.branch_id, (s.starts_at AT TIME ZONE b.timezone)::date
    FROM {_t(ClassSession)} s JOIN {_t(Branch)} b ON b.id = s.branch_id
    WHERE s.organisation_id = %(org)s AND s.created_at > %(since)s
    UNION ALL
    SELECT ap.branch_id, (ap.starts_at AT TIME ZONE b.timezone)::date
    FROM {_t(Appointment)} ap JOIN {_t(Branch)} b ON b.id = ap.branch_id
    WHERE ap.organisation_id = %(org)s
      AND GREATEST(ap.created_at, ap.cancelled_at, ap.attendance_marked_at) > %(since)s
    UNION ALL
    SELECT i.branch_id, (i.issued_at AT TIME ZONE b.timezone)::date
    FROM {_t(Invoice)} i JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE i.organisation_id = %(org)s AND i.issued_at IS NOT NULL
      AND GREATEST(i.issued_at, i.voided_at, i.paid_at) > %(since)s
    UNION ALL
    SELECT i.branch_id, (c.created_at AT TIME ZONE b.timezone)::date
    FROM {_t(CreditNote)} c JOIN {_t(Invoice)} i ON i.id = c.invoice_id
    JOIN {_t(Branch)} b ON b.id = i.branch_id
    WHERE c.organisation_id = %(org)s AND c.created_at > %(since)s
    UNION ALL
    SELECT pm.branch_id, (COALESCE(pm.completed_at, pm.created_at) AT TIME ZONE b.timezone)::date
    FROM {_t(Payment)} pm JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE pm.organisation_id = %(org)s
      AND GREATEST(pm.created_at, pm.completed_at) > %(since)s
    UNION ALL
    SELECT pm.branch_id, (COALESCE(r.completed_at, r.created_at) AT TIME ZONE b.timezone)::date
    FROM {_t(Refund)} r JOIN {_t(Payment)} pm ON pm.id = r.payment_id
    JOIN {_t(Branch)} b ON b.id = pm.branch_id
    WHERE r.organisation_id = %(org)s AND GREATEST(r.created_at, r.completed_at) > %(since)s
    UNION ALL
    SELECT o.branch_id, (COALESCE(o.paid_at, o.created_at) AT TIME ZONE b.timezone)::date
    FROM {_t(Order)} o JOIN {_t(Branch)} b ON b.id = o.branch_id
    WHERE o.organisation_id = %(org)s AND GREATEST(o.created_at, o.paid_at, o.collected_at)
          > %(since)s
) changed
WHERE branch_id IS NOT NULL AND day IS NOT NULL
"""


FIGURE_COLUMNS = (
    "organisation_id", "branch_id", "day", "signups", "memberships_started",
    "memberships_ended", "cancellations", "checkins", "checkins_by_hour", "sessions",
    "capacity", "booked", "attended", "no_shows", "late_cancels", "waitlisted", "pt_sessions",
    "invoiced_net", "invoiced_tax", "credited_net", "credited_tax", "collected", "refunded",
    "failed_payments", "shop_units", "shop_net",
)  # fmt: skip
BREAKDOWN_COLUMNS = (
    "organisation_id", "branch_id", "day", "kind", "key", "amount", "tax", "count",
)  # fmt: skip

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def rollup_fold(*, organisation_id: int, now: datetime | None = None) -> int:
    """Fold into the rollups what changed since the last run; returns (branch, day)s redone.

    The watermark row is claimed with a row lock (SKIP LOCKED): a second run at the
    same moment finds it taken and does nothing, so two workers never redo the same work.
    """
    now = now or timezone.now()
    RollupState.objects.unscoped().get_or_create(organisation_id=organisation_id)
    with transaction.atomic():
        state = (
            RollupState.objects.unscoped()
            .select_for_update(skip_locked=True)
            .filter(organisation_id=organisation_id)
            .first()
        )
        if state is None:
            return 0
        since = (state.folded_until or EPOCH) - FOLD_OVERLAP
        with connections["default"].cursor() as cursor:
            # The access log is append-only and the door's hot table: it is followed by
            # id (its primary key), not by a timestamp index it would have to maintain.
            # The id mark stops at rows received FOLD_OVERLAP ago, so a row whose
            # transaction commits late (a lower id, seen later) is still folded.
            cursor.execute(
                f"SELECT COALESCE(max(id), %(log_id)s) FROM {_t(AccessLog)} "
                "WHERE organisation_id = %(org)s AND id > %(log_id)s AND received_at < %(mark)s",
                {"org": organisation_id, "log_id": state.access_log_id, "mark": now - FOLD_OVERLAP},
            )
            (log_mark,) = cursor.fetchone()
            cursor.execute(
                _changed_sql(),
                {
                    "org": organisation_id,
                    "since": since,
                    "until": now,
                    "log_id": state.access_log_id,
                },
            )
            pairs = [(b, d) for b, d in cursor.fetchall()]
        done = _rebuild_pairs(organisation_id=organisation_id, pairs=pairs)
        _rebuild_member_months(organisation_id=organisation_id, since_log_id=state.access_log_id)
        # MRR moves from the month of the earliest membership day that changed.
        changed = [d for _b, d in pairs if d is not None]
        if changed:
            _rebuild_mrr(
                organisation_id=organisation_id,
                first=min(changed),
                last=max(max(changed), now.date()),
            )
        RollupState.objects.unscoped().filter(pk=state.pk).update(
            folded_until=now,
            access_log_id=log_mark,
            last_days=done,
            runs=state.runs + 1,
            updated_at=now,
        )
    return done
