"""The OpenAPI schema and its Swagger UI page, public or for the gym's staff only
(settings.API_DOCS_PUBLIC)."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny

from accounts.api.permissions import IsStaffInScope


def _permissions():
    return [AllowAny] if settings.API_DOCS_PUBLIC else [IsStaffInScope]


class SchemaView(SpectacularAPIView):
    def get_permissions(self):
        return [permission() for permission in _permissions()]


class DocsView(SpectacularSwaggerView):
    def get_permissions(self):
        return [permission() for permission in _permissions()]

    def handle_exception(self, exc):
        # A browser that is not signed in goes to the sign-in page and comes back.
        if isinstance(exc, NotAuthenticated):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
