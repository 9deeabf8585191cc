"""``/healthz``: 200 when the database, the cache and the broker answer, else 503
naming the parts that are down.

``HealthMiddleware`` is first in ``MIDDLEWARE`` and answers ``/healthz`` itself, so
no middleware that reads the database or the cache (sessions, tenancy) runs before
it: with the database down the answer is a 503, not the 500 of a failed tenant
look-up. Each probe has a short timeout (``connect_timeout`` on the database, the
cache's and the broker's socket timeouts, one broker connection attempt).
"""

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/healthz/")
PROBE_KEY = "healthz:probe"


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.warning("health: database unreachable", exc_info=True)
        # A half-open connection must not be reused by the next request.
        connection.close_if_unusable_or_obsolete()
        return False


def _cache_ok() -> bool:
    backend = caches["default"]
    try:
        ping = getattr(backend, "ping", None)
        if ping is not None:
            ping()
        else:
            backend.set(PROBE_KEY, 1, 5)
        return True
    except Exception:
        logger.warning("health: cache unreachable", exc_info=True)
        return False


def _broker_ok() -> bool:
    from gymsite.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0)
        return True
    except Exception:
        logger.warning("health: broker unreachable", exc_info=True)
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "cache": _cache_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": {name: "ok" if ok else "down" for name, ok in checks.items()},
            "down": [name for name, ok in checks.items() if not ok],
            "broker": "redis" if settings.REDIS_URL else "filesystem",
        },
        status=200 if healthy else 503,
    )


class HealthMiddleware:
    """Answers ``/healthz`` before any other middleware runs (first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info in HEALTH_PATHS:
            return healthz(request)
        return self.get_response(request)
