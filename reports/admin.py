"""The back office's Reports section: one page per area, mounted under the admin.

A ``DailyFigures`` entry in the sidebar ("Reports") opens the index; the work list's
contacts have their own list. Pages run inside the admin's staff scope, so branch
staff only ever see their branches.
"""

from django.contrib import admin
from django.urls import path

from accounts.admin_base import TenantAdmin
from reports import views
from reports.models import AtRiskContact, DailyFigures


@admin.register(DailyFigures)
class ReportsAdmin(TenantAdmin):
    """The sidebar's "Reports": links to each report above the daily rollup rows."""

    change_list_template = "reports/daily_figures_list.html"
    list_display = (
        "day", "branch", "checkins", "booked", "signups", "cancellations", "invoiced_net",
        "credited_net", "collected", "refunded",
    )  # fmt: skip
    list_filter = ("branch",)
    list_select_related = ("branch",)
    date_hierarchy = "day"
    ordering = ("-day", "branch")

    def changelist_view(self, request, extra_context=None):
        extra = {"report_pages": views.PAGES, **(extra_context or {})}
        return super().changelist_view(request, extra)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        site = self.admin_site

        def context(request):
            return {**site.each_context(request), "opts": self.model._meta}

        def index(request):
            return views.report_index(request, context(request))

        def page(request, area):
            return views.report_page(request, area, context(request))

        return [
            path("overview/", site.admin_view(index), name="reports_index"),
            path("area/<slug:area>/", site.admin_view(page), name="reports_page"),
            path(
                "area/<slug:area>/<slug:table>.<str:fmt>",
                site.admin_view(views.report_download),
                name="reports_download",
            ),
            path(
                "at-risk/<int:member_id>/contact/",
                site.admin_view(views.at_risk_contact),
                name="reports_contact",
            ),
            *super().get_urls(),
        ]


@admin.register(AtRiskContact)
class AtRiskContactAdmin(TenantAdmin):
    list_display = ("member", "branch", "outcome", "contacted_at", "contacted_by")
    list_filter = ("outcome", "branch")
    list_select_related = ("member", "branch", "contacted_by")
    readonly_fields = (
        "member",
        "branch",
        "outcome",
        "note",
        "reasons",
        "contacted_at",
        "contacted_by",
    )

    def has_add_permission(self, request):
        return False
