"""The access log partitioned by month: the door's insert and reads across months,
partitions made ahead, retention by detaching months, and the migration both ways."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from access import partitions, selectors, services
from access.models import AccessLog, AccessRequest
from access.tests.factories import AccessLogFactory, CredentialFactory
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def _partition_of(log_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM access_accesslog WHERE id = %s", [log_id]
        )
        return cursor.fetchone()[0]


def _is_partitioned() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'access_accesslog'")
        return cursor.fetchone()[0] == "p"


def test_the_log_is_partitioned_with_months_ahead():
    names = [p.name for p in partitions.accesslog_partitions()]
    this_month = partitions.month_start(datetime.now(UTC).date())
    assert _is_partitioned()
    assert f"access_accesslog_p{this_month:%Y%m}" in names
    assert len([p for p in partitions.accesslog_partitions() if p.start >= this_month]) >= 4


def test_door_inserts_across_a_month_boundary_and_a_report_reads_across_it(
    gym, branch, device, active_member
):
    # given the last minute of one month and the first of the next
    boundary = partitions.month_start(datetime.now(UTC).date(), 1)
    card = CredentialFactory(member=active_member, organisation=gym)
    with tenant_scope(gym):
        # when the door lets the member in on both sides of midnight
        before = services.checkin_attempt(
            branch=branch,
            presented=card.number,
            device=device,
            request_id="late",
            at=boundary - timedelta(minutes=1),
        )
        after = services.checkin_attempt(
            branch=branch,
            presented=card.number,
            device=device,
            request_id="early",
            at=boundary + timedelta(hours=3),
        )
        replay = services.checkin_attempt(
            branch=branch,
            presented=card.number,
            device=device,
            request_id="late",
            at=boundary + timedelta(hours=4),
        )
        visits = list(selectors.member_visits(member=active_member))
    # then each row is in its month's partition, a retry finds the first across
    # months, and the member's visits read both months
    assert before.granted and after.granted, (before.log.reason, after.log.reason)
    assert _partition_of(before.log.pk) == f"access_accesslog_p{boundary - timedelta(days=1):%Y%m}"
    assert _partition_of(after.log.pk) == f"access_accesslog_p{boundary:%Y%m}"
    assert replay.replayed and replay.log.pk == before.log.pk
    assert [v.pk for v in visits] == [after.log.pk, before.log.pk]
    assert AccessRequest.objects.filter(device=device).count() == 2


def test_ensure_creates_missing_months_and_moves_waiting_rows(branch):
    # given a row far ahead, waiting in the default partition
    far = date.today().replace(day=1) + timedelta(days=31 * 10)
    start = partitions.month_start(far)
    log = AccessLogFactory(branch=branch, occurred_at=start + timedelta(days=2))
    assert _partition_of(log.pk) == "access_accesslog_default"
    # when the job runs as if it were that month
    created = partitions.accesslog_partitions_ensure(months_ahead=1, today=far)
    again = partitions.accesslog_partitions_ensure(months_ahead=1, today=far)
    # then the month exists and the row moved into it
    assert f"access_accesslog_p{start:%Y%m}" in created
    assert again == []
    assert _partition_of(log.pk) == f"access_accesslog_p{start:%Y%m}"


def test_retention_detaches_old_months_and_their_request_keys(branch, device):
    # given rows of an old month (with a request key) and of this month
    old_month = partitions.month_start(date.today(), -14)
    partitions.accesslog_partitions_ensure(months_ahead=0, today=old_month.date())
    old = AccessLogFactory(branch=branch, occurred_at=old_month + timedelta(days=3))
    AccessRequest.objects.create(device=device, request_id="old", occurred_at=old.occurred_at)
    recent = AccessLogFactory(branch=branch)
    # when retention keeps twelve months
    out = io.StringIO()
    call_command("access_log_retention", "--keep-months", "12", "--drop", stdout=out)
    # then the old month is gone, the recent row stays
    ids = set(AccessLog.objects.unscoped().values_list("pk", flat=True))
    assert old.pk not in ids and recent.pk in ids
    assert f"access_accesslog_p{old_month:%Y%m}" not in [
        p.name for p in partitions.accesslog_partitions()
    ]
    assert not AccessRequest.objects.filter(request_id="old").exists()
    assert f"dropped access_accesslog_p{old_month:%Y%m}" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_migration_round_trips_with_rows(branch):
    # given rows in three different months
    now = datetime.now(UTC)
    logs = [
        AccessLogFactory(branch=branch, occurred_at=now - timedelta(days=d)) for d in (0, 40, 80)
    ]
    ids = sorted(log.pk for log in logs)
    try:
        # when the partitioning is migrated back, then forward again
        call_command("migrate", "access", "0002_request_keys", verbosity=0)
        plain = _is_partitioned()
        back = sorted(AccessLog.objects.unscoped().values_list("pk", flat=True))
        call_command("migrate", "access", verbosity=0)
    finally:
        call_command("migrate", verbosity=0)
    # then no row was lost either way, and new ids continue after the old ones
    assert plain is False
    assert back == ids
    assert _is_partitioned()
    assert sorted(AccessLog.objects.unscoped().values_list("pk", flat=True)) == ids
    assert AccessLogFactory(branch=branch).pk > max(ids)
