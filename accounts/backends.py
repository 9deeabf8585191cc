from fnmatch import fnmatchcase

from accounts.roles import ROLE_PERMISSIONS
from accounts.selectors import user_roles_in
from accounts.tenancy import get_scope


class RoleBackend:
    """Grants Django permissions from a person's roles in the organisation in scope.

    It authenticates nobody: allauth and the JWT views do that.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def _patterns(self, user_obj) -> tuple[str, ...]:
        scope = get_scope()
        if not user_obj.is_active or user_obj.is_anonymous or scope is None:
            return ()
        cache_key = f"_role_perm_patterns_{scope.organisation_id}"
        if not hasattr(user_obj, cache_key):
            roles = user_roles_in(user=user_obj, organisation_id=scope.organisation_id)
            patterns = tuple(p for role in roles for p in ROLE_PERMISSIONS.get(role, ()))
            setattr(user_obj, cache_key, patterns)
        return getattr(user_obj, cache_key)

    def has_perm(self, user_obj, perm, obj=None):
        return any(fnmatchcase(perm, pattern) for pattern in self._patterns(user_obj))

    def has_module_perms(self, user_obj, app_label):
        return any(pattern.startswith(f"{app_label}.") for pattern in self._patterns(user_obj))
