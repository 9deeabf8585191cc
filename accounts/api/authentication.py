from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.selectors import organisation_for_user
from accounts.tenancy import TenantScope, get_scope, set_scope


class TenantJWTAuthentication(JWTAuthentication):
    """JWT for the mobile app. API requests often reach a shared host, so when the
    host named no gym, the signed-in person's gym is put in scope (the middleware
    resets the scope when the request ends)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and get_scope() is None:
            organisation = organisation_for_user(user=result[0])
            if organisation is not None:
                set_scope(TenantScope(organisation.pk))
                request._request.organisation = organisation
        return result
