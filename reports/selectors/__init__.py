"""Report figures by area (see ``base`` for how rollups and live rows combine)."""

from reports.selectors.at_risk import at_risk_members, at_risk_report
from reports.selectors.attendance import attendance_report
from reports.selectors.base import Period, Report, Table, period_for, visible_branches
from reports.selectors.members import members_report
from reports.selectors.money import money_report
from reports.selectors.shop import shop_report
from reports.selectors.today import today_figures

AREAS = {
    "revenue": money_report,
    "members": members_report,
    "attendance": attendance_report,
    "shop": shop_report,
}

__all__ = [
    "AREAS",
    "Period",
    "Report",
    "Table",
    "at_risk_members",
    "at_risk_report",
    "attendance_report",
    "members_report",
    "money_report",
    "period_for",
    "shop_report",
    "today_figures",
    "visible_branches",
]
