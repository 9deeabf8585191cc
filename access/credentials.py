"""Secrets of access: device API keys and rotating QR codes.

Device keys: ``spd_<prefix>_<secret>``. The prefix finds the device in one indexed
lookup; the SHA-256 of the whole key is compared in constant time. Keys carry 256
bits of randomness, so a fast hash is safe (a slow password hash would add tens of
milliseconds to every check-in).

QR codes: ``SPQ1.<credential id>.<window>.<signature>``, where the window is the
current 30-second step and the signature an HMAC-SHA256 under the credential's own
random secret. A code is accepted for ``QR_WINDOWS_ACCEPTED`` steps (about 90
seconds: the portal page refreshes it every step), so yesterday's screenshot fails,
and rotating the credential's secret invalidates every code made from it.
The same check runs on a device offline: the signed allow-list carries the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

KEY_PREFIX = "spd"
QR_PREFIX = "SPQ1"
QR_WINDOW_SECONDS = 30
# The current step, the one before (a code displayed just before the step changed)
# and the one after (a device clock slightly behind the phone's).
QR_WINDOWS_BEHIND = 2
QR_WINDOWS_AHEAD = 1
QR_SIGNATURE_CHARS = 24


@dataclass(frozen=True)
class IssuedKey:
    key: str
    prefix: str
    key_hash: str


def hash_device_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_device_key() -> IssuedKey:
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedKey(key=key, prefix=prefix, key_hash=hash_device_key(key))


def device_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    if not (parts[1].isascii() and parts[1].isalnum()):  # never a NUL into the query
        return None
    return parts[1]


def device_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_device_key(key), key_hash)


def qr_window(at: datetime | None = None) -> int:
    at = at or timezone.now()
    return int(at.timestamp()) // QR_WINDOW_SECONDS


def qr_signature(*, credential_id: int, secret: str, window: int) -> str:
    message = f"{credential_id}.{window}".encode()
    digest = hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()
    return digest[:QR_SIGNATURE_CHARS]


def qr_payload(*, credential_id: int, secret: str, at: datetime | None = None) -> str:
    window = qr_window(at)
    signature = qr_signature(credential_id=credential_id, secret=secret, window=window)
    return f"{QR_PREFIX}.{credential_id}.{window}.{signature}"


def qr_expires_at(at: datetime | None = None) -> datetime:
    """When a code made now stops being accepted."""
    window = qr_window(at)
    end = (window + QR_WINDOWS_BEHIND + 1) * QR_WINDOW_SECONDS
    return datetime.fromtimestamp(end, tz=UTC)


@dataclass(frozen=True)
class ParsedQr:
    credential_id: int
    window: int
    signature: str


def qr_parse(text: str) -> ParsedQr | None:
    """The parts of a QR payload, or None if it is not one of ours."""
    parts = text.strip().split(".")
    if len(parts) != 4 or parts[0] != QR_PREFIX:
        return None
    try:
        credential_id, window = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    if credential_id <= 0 or window <= 0 or len(parts[3]) != QR_SIGNATURE_CHARS:
        return None
    return ParsedQr(credential_id=credential_id, window=window, signature=parts[3])


def qr_signature_valid(*, parsed: ParsedQr, secret: str) -> bool:
    expected = qr_signature(credential_id=parsed.credential_id, secret=secret, window=parsed.window)
    return hmac.compare_digest(expected, parsed.signature)


def qr_window_current(*, parsed: ParsedQr, at: datetime | None = None) -> bool:
    now = qr_window(at)
    return now - QR_WINDOWS_BEHIND <= parsed.window <= now + QR_WINDOWS_AHEAD


def card_number_normalise(number: str) -> str:
    """Readers differ in spacing and case; store and compare one form."""
    return "".join(number.split()).upper()


def card_number_hash(number: str) -> str:
    """What the offline allow-list carries for a card: devices hash what they read."""
    return hashlib.sha256(card_number_normalise(number).encode()).hexdigest()


def sign_payload(*, canonical: bytes, device_key_hash: str) -> str:
    """Sign an allow-list so the device can check it came from us.

    The HMAC key is the SHA-256 of the device's own API key: the device computes it
    from the key it holds, the server from the hash it stores, and no other device
    can forge a list for this one.
    """
    return hmac.new(bytes.fromhex(device_key_hash), canonical, hashlib.sha256).hexdigest()
