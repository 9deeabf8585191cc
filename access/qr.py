"""The member's entry QR code, rendered as inline SVG with segno (no CDN, no image files)."""

from __future__ import annotations

import segno
from django.utils import timezone

from access import credentials as creds
from access import services
from accounts.models import Member


def qr_svg(payload: str) -> str:
    code = segno.make(payload, error="m")
    return code.svg_inline(scale=6, border=2, dark="#000", light="#fff")


def qr_for_member(*, member: Member) -> dict:
    credential = services.credential_qr_for(member=member)
    now = timezone.now()
    payload = creds.qr_payload(credential_id=credential.pk, secret=credential.secret, at=now)
    return {
        "payload": payload,
        "expires_at": creds.qr_expires_at(now),
        "refresh_seconds": creds.QR_WINDOW_SECONDS,
        "svg": qr_svg(payload),
        # For the page's own generator (static/access/my_code.js), so the code keeps
        # rotating with no network: see docs/pwa.md for the trade-off.
        "credential_id": credential.pk,
        "secret": credential.secret,
        "window_seconds": creds.QR_WINDOW_SECONDS,
        "windows_behind": creds.QR_WINDOWS_BEHIND,
        "server_time_ms": int(now.timestamp() * 1000),
    }
