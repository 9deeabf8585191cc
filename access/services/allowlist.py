"""The allow-list an offline device decides from."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from django.utils import timezone

from access import credentials as creds
from access import selectors
from access.models import AccessDevice

ALLOWLIST_OVERLAP = timedelta(minutes=5)
ALLOWLIST_VALID_FOR = timedelta(hours=24)


def allowlist_build(
    *, device: AccessDevice, since: datetime | None = None, at: datetime | None = None
) -> dict:
    """A signed list of who may enter the device's branch, for when it is offline.

    Full when ``since`` is None, else only members whose credentials or memberships
    changed since then (each entry replaces the device's whole entry for that
    member). The next cursor overlaps the last by a few minutes so a transaction
    that committed late is never missed; applying an entry twice is harmless.
    """
    at = at or timezone.now()
    entries = selectors.allowlist_entries(branch=device.branch, since=since, at=at)
    payload = {
        "version": 1,
        "organisation": device.organisation_id,
        "branch": device.branch_id,
        "device": device.pk,
        "generated_at": at.isoformat(),
        "valid_until": (at + ALLOWLIST_VALID_FOR).isoformat(),
        "full": since is None,
        "since": since.isoformat() if since else None,
        "cursor": (at - ALLOWLIST_OVERLAP).isoformat(),
        "qr_window_seconds": creds.QR_WINDOW_SECONDS,
        "members": entries,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return {
        "payload": payload,
        "signature": creds.sign_payload(canonical=canonical, device_key_hash=device.key_hash),
        "algorithm": "HMAC-SHA256(key=sha256(device key), canonical JSON)",
    }
