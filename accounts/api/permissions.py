from rest_framework.permissions import BasePermission

from accounts.selectors import is_staff_in
from accounts.tenancy import get_scope


class IsStaffInScope(BasePermission):
    """An owner, branch manager or front desk of the gym in scope (by session or JWT)."""

    def has_permission(self, request, view) -> bool:
        scope = get_scope()
        return scope is not None and is_staff_in(
            user=request.user, organisation_id=scope.organisation_id
        )
