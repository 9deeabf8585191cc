from django.conf import settings
from django.urls import path

from access.api import views

urlpatterns = [
    path("access/checkin", views.CheckinView.as_view(), name="api-access-checkin"),
    path("access/allowlist", views.AllowListView.as_view(), name="api-access-allowlist"),
    path(
        "access/offline-events",
        views.OfflineEventsView.as_view(),
        name="api-access-offline-events",
    ),
    path("access/me/qr", views.MyQrCodeView.as_view(), name="api-access-my-qr"),
    path("access/me/visits", views.MyVisitsView.as_view(), name="api-access-my-visits"),
]

if getattr(settings, "BENCH_ENDPOINTS", False):
    urlpatterns.append(
        path("bench/device-floor", views.DeviceFloorView.as_view(), name="api-bench-device-floor")
    )
