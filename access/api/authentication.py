"""Door devices authenticate with their own API key: ``Authorization: Device <key>``.

The device puts its organisation and branch in scope for the rest of the request
(``accounts.middleware.TenantMiddleware`` resets the scope when the request ends),
so everything a device reaches is its own branch's.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from access import credentials as creds
from access import ratelimit, selectors, services
from access.models import AccessDevice
from accounts.tenancy import TenantScope, get_scope, set_scope

KEYWORD = b"device"


class DevicePrincipal:
    """``request.user`` for a device: authenticated, but nobody's account."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, device: AccessDevice):
        self.device = device

    def __str__(self):
        return f"device:{self.device.pk}"

    def has_perm(self, perm, obj=None):
        return False


class DeviceKeyAuthentication(BaseAuthentication):
    """Missing header: not this scheme (401 from the permission). Wrong key: 401.
    Revoked device: 403. A device of another gym than the host's: 401. Over the
    per-address or per-device rate: 429 (``access.ratelimit``, fail open)."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        address = request.META.get("REMOTE_ADDR", "")
        try:
            device = self._device(header)
        except exceptions.AuthenticationFailed:
            ratelimit.device_key_refused(
                address=address, device=self._prefix_owner, organisation_id=self._host_gym
            )
            raise
        ratelimit.device_admit(address=address, device=device)
        set_scope(
            TenantScope(
                organisation_id=device.organisation_id, branch_ids=frozenset({device.branch_id})
            )
        )
        services.device_touch(device=device, at=timezone.now())
        return DevicePrincipal(device), device

    def _device(self, header) -> AccessDevice:
        scope = get_scope()
        self._host_gym = scope.organisation_id if scope is not None else None
        self._prefix_owner = None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid device key header."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid device key.")) from None
        prefix = creds.device_key_prefix(key)
        device = selectors.device_for_key_prefix(prefix=prefix) if prefix else None
        if device is None or not creds.device_key_matches(key, device.key_hash):
            # Someone holds this device's prefix with a wrong secret: counted for it.
            self._prefix_owner = device
            raise exceptions.AuthenticationFailed(_("Invalid device key."))
        if device.status != AccessDevice.Status.ACTIVE:
            raise exceptions.PermissionDenied(_("This device has been revoked."))
        if self._host_gym is not None and self._host_gym != device.organisation_id:
            raise exceptions.AuthenticationFailed(_("Invalid device key."))
        return device

    def authenticate_header(self, request):
        return 'Device realm="api"'


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    """Documents the device key in the OpenAPI schema."""

    target_class = DeviceKeyAuthentication
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <key>`: the key shown once when the device was registered.",
        }
