"""The cache is an accelerator: when Redis is unreachable it behaves as an empty cache.

``RedisCache`` is Django's own Redis backend with every operation guarded: a
connection or timeout error is logged and answered as an empty cache that forgets
what it is told would answer (``get`` gives the default, ``get_or_set`` computes the
value, ``add`` and ``set`` report success, ``incr`` finds no key), so callers fall
back to the database and no request fails because of the cache. After a failure
the backend stops asking Redis for ``RETRY_SECONDS``, so a dead or black-holed
server costs one short timeout per worker per few seconds, not one per call.
``ping`` is the one call that raises, for ``/healthz``.

Rate limiters that count in the cache (DRF throttles, allauth) therefore fail
open while Redis is down; the README's operations section says why that is the
intended behaviour and which limits do not depend on the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import wraps

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
# Short enough that a request touching the cache a few times stays fast when the
# server is black-holed; ample for a Redis on the same network.
SOCKET_TIMEOUT = 0.25


def _guarded(fallback):
    """Run the real operation unless Redis is known to be down; on a Redis or
    socket error, log, open the circuit and answer ``fallback(*args, **kwargs)``."""

    def decorate(method):
        @wraps(method)
        def guarded(self, *args, **kwargs):
            if self._down_until > time.monotonic():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except (RedisError, OSError):
                self._trip()
                return fallback(*args, **kwargs)

        return guarded

    return decorate


def _none(*args, **kwargs):
    return None


def _true(*args, **kwargs):
    return True


def _false(*args, **kwargs):
    return False


def _empty_dict(*args, **kwargs):
    return {}


def _empty_list(*args, **kwargs):
    return []


def _default(key, default=None, version=None):
    return default


def _missing_key(key, *args, **kwargs):
    raise ValueError(f"Key {key!r} not found.")


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        options = {
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            # redis-py retries a failed connection three times with backoff (seconds
            # per call); the circuit below is the retry policy instead.
            "retry": Retry(NoBackoff(), 0),
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0
        self._trip_lock = threading.Lock()

    def _trip(self) -> None:
        with self._trip_lock:
            first = self._down_until <= time.monotonic()
            self._down_until = time.monotonic() + RETRY_SECONDS
        if first:
            logger.warning(
                "cache unavailable: answering from the database for %ss",
                RETRY_SECONDS,
                exc_info=True,
            )

    def ping(self) -> None:
        """Raise unless Redis answers (ignores the circuit: ``/healthz`` asks)."""
        self._cache.get_client(write=True).ping()
        self._down_until = 0.0

    get = _guarded(_default)(DjangoRedisCache.get)
    add = _guarded(_true)(DjangoRedisCache.add)
    set = _guarded(_true)(DjangoRedisCache.set)
    touch = _guarded(_false)(DjangoRedisCache.touch)
    delete = _guarded(_false)(DjangoRedisCache.delete)
    has_key = _guarded(_false)(DjangoRedisCache.has_key)
    incr = _guarded(_missing_key)(DjangoRedisCache.incr)
    get_many = _guarded(_empty_dict)(DjangoRedisCache.get_many)
    set_many = _guarded(_empty_list)(DjangoRedisCache.set_many)
    delete_many = _guarded(_none)(DjangoRedisCache.delete_many)
    clear = _guarded(_true)(DjangoRedisCache.clear)
