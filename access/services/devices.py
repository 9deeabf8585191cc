"""Door devices: registering, key rotation, revocation, flags for floods, last seen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access import credentials as creds
from access.models import AccessDevice
from accounts.models import Branch, Organisation, User
from accounts.services import audit_record
from accounts.tenancy import tenant_scope


@dataclass(frozen=True)
class DeviceWithKey:
    device: AccessDevice
    key: str  # shown once, never stored


@transaction.atomic
def device_register(
    *, branch: Branch, name: str, kind: str, direction: str, actor: User | None = None
) -> DeviceWithKey:
    issued = creds.issue_device_key()
    device = AccessDevice.objects.create(
        branch=branch,
        name=name.strip(),
        kind=kind,
        direction=direction,
        key_prefix=issued.prefix,
        key_hash=issued.key_hash,
    )
    audit_record(actor=actor, action="access.device_register", target=device)
    return DeviceWithKey(device=device, key=issued.key)


@transaction.atomic
def device_rotate_key(*, device: AccessDevice, actor: User | None = None) -> DeviceWithKey:
    """A new key; the old one stops working at once. Re-activates a revoked device."""
    issued = creds.issue_device_key()
    device.key_prefix = issued.prefix
    device.key_hash = issued.key_hash
    device.key_rotated_at = timezone.now()
    device.status = AccessDevice.Status.ACTIVE
    device.revoked_at = None
    device.save(update_fields=["key_prefix", "key_hash", "key_rotated_at", "status", "revoked_at"])
    audit_record(actor=actor, action="access.device_rotate_key", target=device)
    return DeviceWithKey(device=device, key=issued.key)


@transaction.atomic
def device_revoke(*, device: AccessDevice, actor: User | None = None) -> AccessDevice:
    if device.status == AccessDevice.Status.REVOKED:
        return device
    device.status = AccessDevice.Status.REVOKED
    device.revoked_at = timezone.now()
    device.save(update_fields=["status", "revoked_at"])
    audit_record(actor=actor, action="access.device_revoke", target=device)
    return device


def device_flag(*, device: AccessDevice, reason: str, data: dict | None = None) -> bool:
    """Flag a device for staff (admin device list); True if this call flagged it.

    Called from a flood counter crossing its threshold, maybe by many workers at
    once: the conditional update lets one of them win, and only that one writes the
    audit row, so a flood leaves one flag and one entry, not thousands.
    """
    now = timezone.now()
    with transaction.atomic():
        won = (
            AccessDevice.objects.unscoped()
            .filter(pk=device.pk, flagged_at__isnull=True)
            .update(flagged_at=now, flag_reason=reason[:255])
        )
        if won:
            device.flagged_at, device.flag_reason = now, reason[:255]
            with tenant_scope(device.organisation_id):
                audit_record(actor=None, action="access.device_flagged", target=device, data=data)
    return bool(won)


@transaction.atomic
def device_clear_flag(*, device: AccessDevice, actor: User | None = None) -> AccessDevice:
    if device.flagged_at is None:
        return device
    reason = device.flag_reason
    device.flagged_at, device.flag_reason = None, ""
    device.save(update_fields=["flagged_at", "flag_reason"])
    audit_record(
        actor=actor, action="access.device_flag_cleared", target=device, data={"was": reason}
    )
    return device


@transaction.atomic
def address_flag(*, organisation_id: int, address: str, failures: int) -> None:
    """An address (no device identified) flooding a gym's host with invalid device keys:
    one audit entry per window (the caller flags at the threshold only)."""
    with tenant_scope(organisation_id):
        audit_record(
            actor=None,
            action="access.address_flagged",
            target=Organisation.objects.get(pk=organisation_id),
            data={"address": address, "failures": failures},
        )


def device_touch(*, device: AccessDevice, at: datetime) -> None:
    """Record that a device was heard from, at most once a minute (no write per request).

    The row as loaded skips the statement when it is fresh; the UPDATE's own condition
    decides between concurrent requests of one device, so a burst writes once."""
    stale_before = at - timedelta(minutes=1)
    if device.last_seen_at and device.last_seen_at > stale_before:
        return
    AccessDevice.objects.unscoped().filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=stale_before), pk=device.pk
    ).update(last_seen_at=at)
    device.last_seen_at = at
