from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("accounts.api.urls")),
    path("", include("memberships.api.urls")),
    path("", include("bookings.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("billing.stripe.urls")),
    path("", include("access.api.urls")),
    path("", include("inventory.api.urls")),
]

if settings.BENCH_ENDPOINTS:
    from gymsite.api.bench import FloorView

    urlpatterns.append(path("bench/floor", FloorView.as_view(), name="api-bench-floor"))
