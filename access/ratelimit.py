"""Rate limits and flood counters for door devices, kept in the cache.

Counters are fixed windows: one key per (what, who, window number), incremented
and given an expiry. With Django's Redis cache every counter of a request goes in
one pipelined round trip (the check-in is a hot path); any other cache backend uses
``add`` + ``incr``.

**Fail open.** When the cache cannot be reached, ``hit`` answers ``None`` and the
caller lets the request through: the key itself is checked in the database, so a
door still opens for a valid member, and all an attacker gains while the cache is
down is what they had before the limits existed (a 256-bit key cannot be guessed).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext as _
from rest_framework import exceptions

from access import services
from access.models import AccessDevice

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def rate(value: str | None) -> Rate | None:
    """``"120/minute"`` → Rate(120, 60); empty or ``off`` → no limit."""
    if not value or value.strip().lower() in ("off", "none"):
        return None
    limit, _, period = value.partition("/")
    return Rate(int(limit), PERIODS[period.strip().lower()])


def setting_rate(name: str) -> Rate | None:
    return rate(getattr(settings, name, None))


def _redis_client(cache):
    if isinstance(cache, RedisCache):
        return cache._cache.get_client(None, write=True)
    return None


def hit(counters: list[tuple[str, Rate]]) -> list[int] | None:
    """Count one event on each ``(name, rate)`` counter; the counts in this window,
    or None when the cache is down (fail open, logged)."""
    now = time.time()
    keys = [(f"access:rl:{name}:{int(now // r.seconds)}", r.seconds * 2) for name, r in counters]
    cache = caches[getattr(settings, "ACCESS_RATELIMIT_CACHE", "default")]
    try:
        client = _redis_client(cache)
        if client is not None:
            pipe = client.pipeline(transaction=False)
            for key, ttl in keys:
                full = cache.make_and_validate_key(key)
                pipe.incr(full)
                pipe.expire(full, ttl)
            return [int(n) for n in pipe.execute()[::2]]
        counts = []
        for key, ttl in keys:
            cache.add(key, 0, ttl)
            counts.append(cache.incr(key))
        return counts
    except Exception:  # the limiter's store is down or misbehaving: fail open
        logger.warning("access rate limiter unavailable; failing open", exc_info=True)
        return None


def _over(count: int | None, limit: Rate | None) -> bool:
    return count is not None and limit is not None and count > limit.limit


def _throttled(limit: Rate):
    return exceptions.Throttled(
        wait=limit.seconds, detail=_("Too many requests from this device or address.")
    )


def device_admit(*, address: str, device: AccessDevice) -> None:
    """A device whose key checked out: within its own and its address's rate, or 429."""
    per_address = setting_rate("ACCESS_THROTTLE_ADDRESS")
    per_device = setting_rate("ACCESS_THROTTLE_DEVICE")
    counters = []
    if per_address:
        counters.append((f"addr:{address}", per_address))
    if per_device:
        counters.append((f"dev:{device.pk}", per_device))
    counts = hit(counters) if counters else None
    if counts is None:
        return
    for (_name, limit), count in zip(counters, counts, strict=True):
        if _over(count, limit):
            raise _throttled(limit)


def device_key_refused(
    *, address: str, device: AccessDevice | None, organisation_id: int | None
) -> None:
    """A wrong device key: counts against the address's rate, and as a failure of the
    address and of the device whose prefix it carried; a flood is flagged to staff."""
    per_address = setting_rate("ACCESS_THROTTLE_ADDRESS")
    failures = setting_rate("ACCESS_FLAG_FAILURES")
    counters = []
    if per_address:
        counters.append((f"addr:{address}", per_address))
    if failures:
        counters.append((f"addrfail:{address}", failures))
        if device is not None:
            counters.append((f"devfail:{device.pk}", failures))
    counts = hit(counters) if counters else None
    if counts is None:
        return
    by_name = {
        name.split(":", 1)[0]: (count, limit)
        for (name, limit), count in zip(counters, counts, strict=True)
    }
    address_failures, _limit = by_name.get("addrfail", (None, None))
    if failures and address_failures == failures.limit + 1:
        if device is not None or organisation_id is not None:
            services.address_flag(
                organisation_id=device.organisation_id if device else organisation_id,
                address=address,
                failures=address_failures,
            )
        else:
            logger.warning("invalid device keys flooding from %s", address)
    device_failures, _limit = by_name.get("devfail", (None, None))
    if device is not None and _over(device_failures, failures) and device.flagged_at is None:
        services.device_flag(
            device=device,
            reason=_(
                "%(n)d invalid keys with this device's prefix within %(s)d s (from %(address)s)"
            )
            % {"n": device_failures, "s": failures.seconds, "address": address},
            data={"address": address, "failures": device_failures, "kind": "invalid_key"},
        )
    count, limit = by_name.get("addr", (None, None))
    if _over(count, limit):
        raise _throttled(limit)


def device_credential_refused(*, device: AccessDevice, address: str) -> None:
    """An unknown credential presented at a device; a flood (someone trying card
    numbers at a reader) flags the device."""
    failures = setting_rate("ACCESS_FLAG_FAILURES")
    if not failures or device.flagged_at is not None:
        return
    counts = hit([(f"devbad:{device.pk}", failures)])
    if counts is not None and _over(counts[0], failures):
        services.device_flag(
            device=device,
            reason=_("%(n)d unknown credentials within %(s)d s")
            % {"n": counts[0], "s": failures.seconds},
            data={"address": address, "failures": counts[0], "kind": "unknown_credential"},
        )
