"""The back office's front page: today's figures and two charts.

The reports app stands on every domain app (it reads memberships, bookings, access
and billing), so nothing below it has to know about figures. Every query goes
through the scoped managers: a branch manager sees their branches' figures.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models import AccessLog, Result
from accounts.tenancy import require_scope
from billing.models import Payment
from bookings.models import Booking
from memberships.models import Membership
from reports.db import report_reads
from reports.selectors import today_figures
from reports.views import PAGES

CHECKIN_DAYS = 14
REVENUE_DAYS = 30


def _daily(queryset, field: str, days: int, value=None) -> tuple[list[str], list]:
    since = timezone.localdate() - timedelta(days=days - 1)
    rows = (
        queryset.filter(**{f"{field}__date__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(value=value or Count("pk"))
        .order_by("day")
    )
    by_day = {row["day"]: row["value"] for row in rows}
    labels, values = [], []
    for offset in range(days):
        day = since + timedelta(days=offset)
        labels.append(day.strftime("%d %b"))
        amount = by_day.get(day) or 0
        values.append(float(amount) if isinstance(amount, Decimal) else amount)
    return labels, values


def _memberships_in_scope():
    """Memberships of the branches in scope. Membership has no tenant branch path (it
    opens every branch its plan opens), so the scoped manager alone counted the whole
    gym for a branch login: narrow by billing branch or the member's home branch."""
    memberships = Membership.objects.all()
    branch_ids = require_scope().branch_ids
    if branch_ids is not None:
        memberships = memberships.filter(
            Q(branch_id__in=branch_ids) | Q(member__home_branch_id__in=branch_ids)
        )
    return memberships


def dashboard_figures(*, currency: str) -> dict:
    now = timezone.now()
    today = timezone.localdate()
    month_start = today.replace(day=1)
    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED)
    granted = AccessLog.objects.filter(result=Result.GRANTED)

    checkin_labels, checkin_values = _daily(granted, "occurred_at", CHECKIN_DAYS)
    revenue_labels, revenue_values = _daily(
        succeeded, "created_at", REVENUE_DAYS, value=Sum("amount")
    )
    return {
        "kpis": [
            (
                _("Active memberships"),
                _memberships_in_scope().filter(status=Membership.Status.ACTIVE).count(),
            ),
            (_("Check-ins today"), granted.filter(occurred_at__date=today).count()),
            (
                _("Class places booked, next 7 days"),
                Booking.objects.filter(
                    status=Booking.Status.BOOKED,
                    session__starts_at__gte=now,
                    session__starts_at__lt=now + timedelta(days=7),
                ).count(),
            ),
            (
                _("Payments this month"),
                succeeded.filter(created_at__date__gte=month_start).aggregate(total=Sum("amount"))[
                    "total"
                ]
                or Decimal("0.00"),
            ),
        ],
        "checkins_chart": json.dumps(
            {
                "labels": checkin_labels,
                "datasets": [{"label": _("Check-ins"), "data": checkin_values}],
            }
        ),
        "revenue_chart": json.dumps(
            {
                "labels": revenue_labels,
                "datasets": [{"label": _("Payments"), "data": revenue_values}],
            }
        ),
    }


def dashboard_callback(request, context):
    organisation = getattr(request, "organisation", None)
    context.update(dashboard_figures(currency=organisation.currency if organisation else ""))
    if request.user.has_perm("reports.view_dailyfigures"):
        with report_reads():
            context["today_figures"] = today_figures()
        context["report_pages"] = PAGES
    return context
