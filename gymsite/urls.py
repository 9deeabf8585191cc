from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from gymsite.health import healthz

urlpatterns = [
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("gymsite.api.urls")),
    path("memberships/", include("memberships.urls")),
    path("classes/", include("bookings.class_urls")),
    path("bookings/", include("bookings.urls")),
    path("billing/", include("billing.urls")),
    path("access/", include("access.urls")),
    path("shop/", include("inventory.urls")),
    path("assistant/", include("assistant.urls")),
    path("staff/", include("staff.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
