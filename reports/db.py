"""Report reads go to the read replica when one is configured.

``DATABASE_REPLICA_URL`` adds a ``replica`` alias (settings); inside
``report_reads()`` the router sends every read there, so a long report never
holds a snapshot or locks on the primary that the front desk needs. Writes always
go to ``default``; without a replica everything stays on ``default``.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.conf import settings

REPLICA = "replica"

_reporting = contextvars.ContextVar("reports_reading", default=False)
_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("reports_memo", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def report_alias() -> str:
    """The alias report queries read from right now."""
    return REPLICA if _reporting.get() and replica_configured() else "default"


def read_memo() -> dict | None:
    """A dict that lives as long as the enclosing ``report_reads()`` (one page or API
    call), for figures a report asks for more than once; None outside."""
    return _memo.get()


@contextlib.contextmanager
def report_reads():
    token = _reporting.set(True)
    memo_token = _memo.set({})
    try:
        yield report_alias()
    finally:
        _memo.reset(memo_token)
        _reporting.reset(token)


class ReplicaRouter:
    """Reads inside ``report_reads()`` to the replica; writes and migrations to default."""

    def db_for_read(self, model, **hints):
        return report_alias() if _reporting.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
