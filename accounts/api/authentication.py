from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.models import Organisation
from accounts.selectors import organisation_for_user
from accounts.tenancy import TenantScope, get_scope, set_scope

# Claims of the tokens we issue (``accounts.api.serializers.TokenForGymSerializer``).
GYM_CLAIM = "org"
VERSION_CLAIM = "ver"


class TenantJWTAuthentication(JWTAuthentication):
    """JWT for the mobile app. A token is issued for one gym (its "org" claim) and
    only works there: on a shared host that gym is put in scope (the middleware resets
    the scope when the request ends); on a gym's own host, a token for another gym is
    refused. A token issued before the person's logins were revoked (their role
    ended) is refused at once, however long it had left."""

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if validated_token.get(VERSION_CLAIM, 0) != user.auth_version:
            raise AuthenticationFailed("This token has been revoked.", code="token_revoked")
        return user

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        gym_id = token.get(GYM_CLAIM)
        scope = get_scope()
        if gym_id is not None:
            if scope is not None and scope.organisation_id != gym_id:
                raise AuthenticationFailed("This token is for another gym.", code="wrong_gym")
            if scope is None:
                set_scope(TenantScope(gym_id))
                request._request.organisation = Organisation.objects.get(pk=gym_id)
        elif scope is None:
            organisation = organisation_for_user(user=user)
            if organisation is not None:
                set_scope(TenantScope(organisation.pk))
                request._request.organisation = organisation
        return result
