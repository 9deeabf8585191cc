from django.conf import settings
from django.urls import include, path

from accounts.api.docs import DocsView, SchemaView

urlpatterns = [
    path("schema", SchemaView.as_view(), name="api-schema"),
    path("docs", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.api.urls")),
    path("", include("memberships.api.urls")),
    path("", include("bookings.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("billing.stripe.urls")),
    path("", include("access.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("training.api.urls")),
    path("", include("assistant.api.urls")),
    path("", include("staff.api.urls")),
    path("", include("reports.api.urls")),
]

if settings.BENCH_ENDPOINTS:
    from accounts.api.bench import FloorView

    urlpatterns.append(path("bench/floor", FloorView.as_view(), name="api-bench-floor"))
