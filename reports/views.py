"""Back-office report pages (mounted in the admin by ``reports.admin``). Thin: parse
the filters, call a selector inside ``report_reads()``, render or download."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Member
from gymsite.errors import ServiceError
from reports import selectors, services
from reports.db import report_reads
from reports.exports import table_csv, table_xlsx
from reports.forms import ContactForm, ReportFilterForm
from reports.selectors.at_risk import at_risk_members, at_risk_report
from reports.selectors.base import branch_today

PAGES = {
    "revenue": _("Revenue"),
    "members": _("Members"),
    "at-risk": _("At-risk members"),
    "attendance": _("Attendance"),
    "shop": _("Shop"),
}
PERMISSION = "reports.view_dailyfigures"


def _guard(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _build(area: str, period):
    if area == "at-risk":
        return at_risk_report(period, today=max(branch_today(b) for b in period.branches))
    return selectors.AREAS[area](period)


def _filtered(request, area):
    branches = selectors.visible_branches()
    form = ReportFilterForm(request.GET or None, branches=branches)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if form.is_bound and form.errors:
        return form, None
    try:
        period = selectors.period_for(
            start=data.get("start"),
            end=data.get("end"),
            branch_ids=data.get("branch") or None,
            grouping=data.get("group") or "day",
        )
    except ServiceError as exc:
        form.is_valid()
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return form, None
    return form, period


def report_page(request, area: str, admin_context: dict):
    _guard(request)
    if area not in PAGES:
        raise Http404
    form, period = _filtered(request, area)
    report = None
    at_risk = []
    if period is not None:
        with report_reads():
            report = _build(area, period)
            if area == "at-risk":
                at_risk = at_risk_members(
                    period, today=max(branch_today(b) for b in period.branches)
                )
    context = {
        **admin_context,
        "title": PAGES[area],
        "area": area,
        "pages": PAGES,
        "form": form,
        "report": report,
        "at_risk": at_risk,
        "contact_form": ContactForm(),
        "query": request.GET.urlencode(),
    }
    return TemplateResponse(request, "reports/report.html", context)


def report_index(request, admin_context: dict):
    _guard(request)
    context = {**admin_context, "title": _("Reports"), "pages": PAGES}
    return TemplateResponse(request, "reports/index.html", context)


def report_download(request, area: str, table: str, fmt: str):
    _guard(request)
    if area not in PAGES or fmt not in ("csv", "xlsx"):
        raise Http404
    _form, period = _filtered(request, area)
    if period is None:
        raise Http404
    with report_reads():
        report = _build(area, period)
    if table not in report.tables:
        raise Http404
    name = f"{area}-{table}-{period.start}-{period.end}"
    writer = table_csv if fmt == "csv" else table_xlsx
    return writer(report.tables[table], name)


def at_risk_contact(request, member_id: int):
    _guard(request)
    if request.method != "POST":
        raise Http404
    # The scope narrows members to the caller's gym; the branch check keeps branch
    # staff to members of their branches.
    member = get_object_or_404(Member, pk=member_id)
    visible = {b.pk for b in selectors.visible_branches()}
    if member.home_branch_id not in visible:
        raise Http404
    form = ContactForm(request.POST)
    back = reverse("admin:reports_page", kwargs={"area": "at-risk"})
    if not form.is_valid():
        messages.error(request, _("Choose what happened."))
        return HttpResponseRedirect(back)
    reasons = request.POST.getlist("reason")
    try:
        services.at_risk_contact_record(
            member=member,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            reasons=reasons,
            actor=request.user,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Contact with %(name)s recorded.") % {"name": member})
    return HttpResponseRedirect(back)
