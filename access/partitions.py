"""The access log's monthly partitions: created ahead, detached for retention.

The log is range-partitioned on ``occurred_at`` by calendar month (UTC), one table
``access_accesslog_pYYYYMM`` per month plus ``access_accesslog_default`` for any row
outside them (a device clock years off), so the door's INSERT never fails for want
of a partition. A periodic job keeps months ahead; retention detaches whole months
(instant, no DELETE over millions of rows) and can drop them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

from access.models import AccessLog, AccessRequest

PARENT = AccessLog._meta.db_table
DEFAULT = f"{PARENT}_default"


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def month_start(day: date, plus: int = 0) -> datetime:
    index = day.year * 12 + day.month - 1 + plus
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _name(start: datetime) -> str:
    return f"{PARENT}_p{start:%Y%m}"


def accesslog_partitions() -> list[Partition]:
    """The log's monthly partitions, oldest first (the default partition aside)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %s::regclass
            """,
            [PARENT],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        if bound == "DEFAULT":
            continue
        start, end = (datetime.fromisoformat(part) for part in bound.split("'")[1::2])
        found.append(Partition(name=name, start=start, end=end))
    return sorted(found, key=lambda p: p.start)


@transaction.atomic
def accesslog_partitions_ensure(*, months_ahead: int = 4, today: date | None = None) -> list[str]:
    """Create the partitions of this month and ``months_ahead`` after it that are
    missing. Rows already waiting in the default partition for a new month are moved
    into it (the default partition is detached meanwhile, so the check PostgreSQL
    makes on it passes). Returns the partitions created."""
    today = today or datetime.now(UTC).date()
    have = {p.name for p in accesslog_partitions()}
    created = []
    with connection.cursor() as cursor:
        for ahead in range(months_ahead + 1):
            start, end = month_start(today, ahead), month_start(today, ahead + 1)
            name = _name(start)
            if name in have:
                continue
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {DEFAULT}")
            # DDL takes no parameters; the bounds are our own datetimes.
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {PARENT} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            cursor.execute(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= %s "  # noqa: S608 (our names)
                f"AND occurred_at < %s RETURNING *) INSERT INTO {PARENT} SELECT * FROM moved",
                [start, end],
            )
            cursor.execute(f"ALTER TABLE {PARENT} ATTACH PARTITION {DEFAULT} DEFAULT")
            created.append(name)
    return created


@transaction.atomic
def accesslog_partitions_detach(*, before: date, drop: bool = False) -> list[str]:
    """Retention: detach every month that ends on or before the month of ``before``
    (the month holding ``before`` is kept), with the request keys of those months.
    Detached tables stay in the database for archiving unless ``drop``. Returns the
    partitions detached."""
    cutoff = month_start(before)
    detached = []
    with connection.cursor() as cursor:
        # A table with deferred foreign-key checks still pending (rows written earlier
        # in the same transaction) cannot be dropped: run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for partition in accesslog_partitions():
            if partition.end > cutoff:
                continue
            cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {partition.name}")
            if drop:
                cursor.execute(f"DROP TABLE {partition.name}")
            detached.append(partition.name)
    if detached:
        AccessRequest.objects.filter(occurred_at__lt=cutoff).delete()
    return detached
