"""Staff API: one endpoint per report area. Thin: validate, narrow the scope, call."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import is_staff_in, staff_scope_for
from accounts.tenancy import get_scope, reset_scope, set_scope
from gymsite.errors import NotAllowed
from reports import selectors
from reports.db import report_reads
from reports.selectors.at_risk import at_risk_report
from reports.selectors.base import GROUPINGS, branch_today


class ReportQuery(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    branch = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    group = serializers.ChoiceField(choices=GROUPINGS, required=False, default="day")


PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (branch-local)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive."),
    OpenApiParameter(
        "branch",
        OpenApiTypes.INT,
        many=True,
        description="Branch ids (repeat); default: all yours.",
    ),
    OpenApiParameter("group", OpenApiTypes.STR, enum=list(GROUPINGS)),
]

ReportOut = inline_serializer(
    "Report",
    {
        "area": serializers.CharField(),
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "branches": serializers.ListField(child=serializers.IntegerField()),
        "grouping": serializers.CharField(),
        "figures": serializers.ListField(child=serializers.DictField()),
        "tables": serializers.DictField(),
        "previous": serializers.DictField(required=False),
    },
)


class ReportView(APIView):
    area = ""

    def build(self, period):
        return selectors.AREAS[self.area](period)

    def get(self, request):
        scope = get_scope()
        if scope is None or not is_staff_in(
            user=request.user, organisation_id=scope.organisation_id
        ):
            raise NotAllowed("Staff only.")
        if not request.user.has_perm("reports.view_dailyfigures"):
            raise NotAllowed("You cannot see reports.")
        raw = {key: request.query_params.get(key) for key in ("start", "end", "group")}
        raw = {k: v for k, v in raw.items() if v}
        branches = [b for value in request.query_params.getlist("branch") for b in value.split(",")]
        if branches:
            raw["branch"] = branches
        query = ReportQuery(data=raw)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        token = set_scope(staff_scope_for(user=request.user, organisation_id=scope.organisation_id))
        try:
            period = selectors.period_for(
                start=values.get("start"),
                end=values.get("end"),
                branch_ids=values.get("branch"),
                grouping=values.get("group") or "day",
            )
            with report_reads():
                body = self.build(period).as_dict()
        finally:
            reset_scope(token)
        return Response(body)


def _view(area_name: str, summary: str, builder=None):
    @extend_schema(
        parameters=PARAMETERS, responses={200: ReportOut}, summary=summary, tags=["reports"]
    )
    def get(self, request):
        return ReportView.get(self, request)

    attrs = {"area": area_name, "get": get}
    if builder is not None:
        attrs["build"] = builder
    return type(f"{area_name.title().replace('_', '')}ReportView", (ReportView,), attrs)


RevenueReportView = _view("revenue", "Revenue, MRR, receivables and dunning")
MembersReportView = _view("members", "Active members, sign-ups, churn, cohorts, LTV, freezes")
AttendanceReportView = _view("attendance", "Check-ins, classes, trainers")
ShopReportView = _view("shop", "Shop sales, sell-through, flash sales")
AtRiskReportView = _view(
    "at_risk",
    "At-risk members and why",
    lambda self, period: at_risk_report(
        period, today=max(branch_today(b) for b in period.branches)
    ),
)
