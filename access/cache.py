"""A tiny per-process cache for branch and plan *configuration* read on every check-in.

Opening hours, a plan's branch list and the classes starting soon at a branch
change rarely and are the same for every member, so each worker keeps them for
``CONFIG_TTL`` seconds instead of asking the database on every check-in.

Never used for membership state: freezes, cancellations, expiry and missed
payments are read from the live membership rows on every attempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

CONFIG_TTL = 30.0

T = TypeVar("T")
_entries: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()


def cached(key: tuple, loader: Callable[[], T], ttl: float = CONFIG_TTL) -> T:
    now = time.monotonic()
    hit = _entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = loader()
    with _lock:
        if len(_entries) > 10_000:
            _entries.clear()
        _entries[key] = (now + ttl, value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
