from rest_framework.permissions import BasePermission

from access.models import AccessDevice


class IsDevice(BasePermission):
    """Only an authenticated, active door device."""

    def has_permission(self, request, view):
        return isinstance(request.auth, AccessDevice)
