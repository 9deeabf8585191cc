"""At-risk members: whose visits fell off, whose payment failed, whose freeze ends soon.

A work list: each member comes with every reason they are on it and the last time
staff contacted them (``reports.services.at_risk_contact_record``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext as _

from accounts.tenancy import require_scope
from reports.models import AtRiskContact
from reports.selectors.base import Period, Report, Table, _raw

NO_VISIT_DAYS = 14
FREEZE_ENDING_DAYS = 7
FAILED_PAYMENT_DAYS = 30
# "Usual" visits: the monthly average over the three months before this one.
USUAL_MONTHS = 3


def at_risk_members(
    period: Period, *, today: date, no_visit_days: int = NO_VISIT_DAYS
) -> list[dict]:
    month_start = today.replace(day=1)
    usual_from = (month_start - timedelta(days=USUAL_MONTHS * 31)).replace(day=1)
    sql = """
WITH active AS (
    SELECT DISTINCT ON (ms.member_id) ms.member_id, COALESCE(ms.branch_id, m.home_branch_id)
           AS branch_id, ms.start_date, ms.status
    FROM memberships_membership ms JOIN accounts_member m ON m.id = ms.member_id
    WHERE ms.organisation_id = %(org)s AND ms.status IN ('active', 'past_due', 'frozen')
      AND COALESCE(ms.branch_id, m.home_branch_id) = ANY(%(branches)s)
    ORDER BY ms.member_id, ms.start_date
),
visits AS (
    SELECT v.member_id, max(v.last_visit) AS last_visit,
           COALESCE(sum(v.visits) FILTER (WHERE v.month = %(month_start)s), 0) AS this_month,
           COALESCE(sum(v.visits) FILTER (WHERE v.month < %(month_start)s), 0) AS before
    FROM reports_membermonthvisits v JOIN active ON active.member_id = v.member_id
    WHERE v.organisation_id = %(org)s AND v.month >= %(usual_from)s
    GROUP BY 1
),
failed AS (
    SELECT pm.payer_id AS member_id, max(pm.created_at) AS failed_at
    FROM billing_payment pm
    WHERE pm.organisation_id = %(org)s AND pm.status = 'failed'
      AND COALESCE(pm.completed_at, pm.created_at) >= %(failed_since)s
    GROUP BY 1
),
freezes AS (
    SELECT ms.member_id, min(f.end_date) AS freeze_ends
    FROM memberships_membershipfreeze f JOIN memberships_membership ms ON ms.id = f.membership_id
    WHERE f.organisation_id = %(org)s AND f.status = 'active'
      AND f.end_date BETWEEN %(today)s AND %(freeze_until)s
    GROUP BY 1
)
SELECT m.id, m.first_name, m.last_name, m.email, m.phone, b.name, a.branch_id, a.status,
       a.start_date, v.last_visit, COALESCE(v.this_month, 0), COALESCE(v.before, 0),
       fl.failed_at, fz.freeze_ends
FROM active a
JOIN accounts_member m ON m.id = a.member_id
JOIN accounts_branch b ON b.id = a.branch_id
LEFT JOIN visits v ON v.member_id = a.member_id
LEFT JOIN failed fl ON fl.member_id = a.member_id
LEFT JOIN freezes fz ON fz.member_id = a.member_id
ORDER BY m.last_name, m.first_name, m.id
"""
    rows = _raw(
        sql,
        {
            "org": require_scope().organisation_id,
            "branches": period.branch_ids,
            "month_start": month_start,
            "usual_from": usual_from,
            "failed_since": today - timedelta(days=FAILED_PAYMENT_DAYS),
            "today": today,
            "freeze_until": today + timedelta(days=FREEZE_ENDING_DAYS),
        },
    )
    cutoff = today - timedelta(days=no_visit_days)
    # Halfway through a month, "under half their usual" compares against the share of
    # the month gone so far.
    month_share = today.day / 30
    found = []
    for (
        member_id,
        first,
        last,
        email,
        phone,
        branch,
        branch_id,
        status,
        started,
        last_visit,
        this_month,
        before,
        failed_at,
        freeze_ends,
    ) in rows:
        reasons = []
        if status != "frozen" and started <= cutoff:
            if last_visit is None or last_visit.date() < cutoff:
                reasons.append(_("No visit in %(days)s days") % {"days": no_visit_days})
            else:
                usual = before / USUAL_MONTHS
                if usual >= 2 and this_month < usual * month_share / 2:
                    reasons.append(
                        _("%(now)s visits this month, usually %(usual).0f")
                        % {"now": this_month, "usual": usual}
                    )
        if failed_at is not None or status == "past_due":
            reasons.append(_("Failed payment"))
        if freeze_ends is not None:
            reasons.append(_("Freeze ends %(day)s") % {"day": freeze_ends.isoformat()})
        if reasons:
            found.append(
                {
                    "member_id": member_id,
                    "name": f"{first} {last}".strip(),
                    "email": email,
                    "phone": phone,
                    "branch": branch,
                    "branch_id": branch_id,
                    "last_visit": last_visit,
                    "reasons": reasons,
                }
            )
    last_contact = {}
    for contact in AtRiskContact.objects.filter(
        member_id__in=[f["member_id"] for f in found]
    ).order_by("member_id", "-contacted_at"):
        last_contact.setdefault(contact.member_id, contact)
    for entry in found:
        entry["contact"] = last_contact.get(entry["member_id"])
    return found


def at_risk_report(period: Period, *, today: date) -> Report:
    report = Report("at_risk", _("At-risk members"), period)
    members = at_risk_members(period, today=today)
    report.kpis = [(_("Members at risk"), len(members), None)]
    report.tables["members"] = Table(
        _("At-risk members"),
        [
            _("Member"),
            _("Branch"),
            _("Phone"),
            _("Email"),
            _("Last visit"),
            _("Why"),
            _("Last contact"),
        ],
        [
            [
                m["name"],
                m["branch"],
                m["phone"],
                m["email"],
                m["last_visit"].date() if m["last_visit"] else None,
                "; ".join(m["reasons"]),
                f"{m['contact'].contacted_at:%Y-%m-%d} {m['contact'].get_outcome_display()}"
                if m["contact"]
                else "",
            ]
            for m in members
        ],
    )
    return report
