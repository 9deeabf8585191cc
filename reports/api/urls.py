from django.urls import path

from reports.api import views

urlpatterns = [
    path("admin/reports/revenue", views.RevenueReportView.as_view(), name="api-reports-revenue"),
    path("admin/reports/members", views.MembersReportView.as_view(), name="api-reports-members"),
    path(
        "admin/reports/attendance",
        views.AttendanceReportView.as_view(),
        name="api-reports-attendance",
    ),
    path("admin/reports/shop", views.ShopReportView.as_view(), name="api-reports-shop"),
    path("admin/reports/at-risk", views.AtRiskReportView.as_view(), name="api-reports-at-risk"),
]
