"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class TenantJWTScheme(SimpleJWTScheme):
    target_class = "accounts.api.authentication.TenantJWTAuthentication"
    name = "jwtAuth"
