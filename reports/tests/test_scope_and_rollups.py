"""Branch staff see only their branches (pages, CSV, API); rollups equal the raw rows;
the fold picks up only what changed; report reads go to the replica alias."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.urls import reverse

from access.models import AccessLog
from access.tests.factories import AccessLogFactory
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.models import Payment
from billing.tests.factories import InvoiceFactory, PaymentFactory
from reports import rollups
from reports.db import REPLICA, ReplicaRouter, report_alias, report_reads
from reports.models import DailyFigures, RollupState

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_branches(gym, branch, other_branch):
    other_branch.timezone = "America/New_York"
    other_branch.save()
    AccessLogFactory(branch=branch)
    AccessLogFactory(branch=other_branch)
    AccessLogFactory(branch=other_branch)


def test_manager_page_shows_only_their_branch(client_for, manager, branch, two_branches):
    response = client_for(manager).get(reverse("admin:reports_page", kwargs={"area": "attendance"}))
    assert response.status_code == 200
    figures = {label: now for label, now, _b in response.context["report"].kpis}
    assert figures["Check-ins"] == 1
    assert [b.pk for b in response.context["report"].period.branches] == [branch.pk]


def test_manager_cannot_ask_for_another_branch(client_for, manager, other_branch, two_branches):
    url = reverse("admin:reports_page", kwargs={"area": "attendance"})
    response = client_for(manager).get(url, {"branch": other_branch.pk})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].errors["branch"]


def test_csv_and_xlsx_keep_to_the_managers_branch(client_for, manager, branch, two_branches):
    client = client_for(manager)
    url = reverse(
        "admin:reports_download", kwargs={"area": "revenue", "table": "branches", "fmt": "csv"}
    )
    body = client.get(url).content.decode()
    assert "North" in body and "South" not in body
    xlsx = client.get(url.replace(".csv", ".xlsx"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_owner_sees_both_branches_and_every_page_renders(client_for, owner, two_branches):
    client = client_for(owner)
    for area in ("revenue", "members", "at-risk", "attendance", "shop"):
        response = client.get(reverse("admin:reports_page", kwargs={"area": area}))
        assert response.status_code == 200, area
    response = client.get(reverse("admin:reports_page", kwargs={"area": "attendance"}))
    figures = {label: now for label, now, _b in response.context["report"].kpis}
    assert figures["Check-ins"] == 3


def test_front_desk_has_no_reports(client_for, front_desk, two_branches):
    response = client_for(front_desk).get(reverse("admin:reports_page", kwargs={"area": "revenue"}))
    assert response.status_code == 403


def _api(api_client, user):
    from rest_framework_simplejwt.tokens import RefreshToken

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return api_client


def test_api_revenue_and_scope(api_client, manager, owner, branch, other_branch, two_branches):
    client = _api(api_client, manager)
    response = client.get("/api/v1/admin/reports/attendance", {"group": "week"})
    assert response.status_code == 200, response.content
    assert response.json()["branches"] == [branch.pk]
    figures = {f["label"]: f["value"] for f in response.json()["figures"]}
    assert figures["Check-ins"] == 1
    refused = client.get("/api/v1/admin/reports/revenue", {"branch": other_branch.pk})
    assert refused.status_code == 400
    assert "branch" in refused.json()["fields"]
    bad = client.get("/api/v1/admin/reports/revenue", {"start": "2026-02-30"})
    assert bad.status_code == 400 and "start" in bad.json()["fields"]
    everything = _api(api_client, owner).get("/api/v1/admin/reports/revenue")
    assert everything.status_code == 200
    assert sorted(everything.json()["branches"]) == sorted([branch.pk, other_branch.pk])


def test_reports_are_in_the_openapi_schema(client_for, owner):
    schema = client_for(owner).get("/api/v1/schema").content.decode()
    for area in ("revenue", "members", "attendance", "shop", "at-risk"):
        assert f"/api/v1/admin/reports/{area}" in schema


def test_rollups_equal_raw_rows_on_random_data(gym, branch, other_branch):
    rng = random.Random(16)
    other_branch.timezone = "Asia/Tokyo"
    other_branch.save()
    start = datetime(2026, 3, 20, tzinfo=UTC)
    branches = [branch, other_branch]
    members = [MemberFactory(organisation=gym, home_branch=rng.choice(branches)) for _ in range(6)]
    for _ in range(120):
        b = rng.choice(branches)
        at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
        AccessLogFactory(branch=b, member=rng.choice(members), occurred_at=at, received_at=at)
    for _ in range(25):
        b = rng.choice(branches)
        at = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 14))
        invoice = InvoiceFactory(
            branch=b,
            payer=rng.choice(members),
            issued_at=at,
            status="paid",
            subtotal=Decimal(rng.randrange(100, 9000)) / 100,
            tax_total=Decimal("1.00"),
            total=Decimal("99.00"),
        )
        PaymentFactory(
            invoice=invoice,
            amount=Decimal(rng.randrange(100, 9000)) / 100,
            completed_at=at,
            status=rng.choice(["succeeded", "failed"]),
        )
    rollups.rollup_rebuild(organisation_id=gym.pk, start=date(2026, 3, 18), end=date(2026, 4, 5))
    with tenant_scope(gym):
        for b in branches:
            rows = {r.day: r for r in DailyFigures.objects.filter(branch=b)}
            from zoneinfo import ZoneInfo

            zone = ZoneInfo(b.timezone)
            visits, hours, money = {}, {}, {}
            for log in AccessLog.objects.filter(branch=b):
                local = log.occurred_at.astimezone(zone)
                visits[local.date()] = visits.get(local.date(), 0) + 1
                hours[(local.date(), local.hour)] = hours.get((local.date(), local.hour), 0) + 1
            for p in Payment.objects.filter(branch=b, status="succeeded"):
                day = p.completed_at.astimezone(zone).date()
                money[day] = money.get(day, Decimal(0)) + p.amount
            failed = {}
            for p in Payment.objects.filter(branch=b, status="failed"):
                day = p.completed_at.astimezone(zone).date()
                failed[day] = failed.get(day, 0) + 1
            invoiced = {}
            for i in b.invoices.all():
                day = i.issued_at.astimezone(zone).date()
                invoiced[day] = invoiced.get(day, Decimal(0)) + i.subtotal
            for day, row in rows.items():
                assert row.checkins == visits.get(day, 0), (b, day)
                assert row.checkins_by_hour == [hours.get((day, h), 0) for h in range(24)]
                assert row.collected == money.get(day, 0), (b, day)
                assert row.failed_payments == failed.get(day, 0)
                assert row.invoiced_net == invoiced.get(day, 0)
            assert (
                sum(r.checkins for r in rows.values()) == AccessLog.objects.filter(branch=b).count()
            )
        from zoneinfo import ZoneInfo

        from reports.models import MemberMonthVisits

        expected = {}
        for log in AccessLog.objects.select_related("branch"):
            local = log.occurred_at.astimezone(ZoneInfo(log.branch.timezone))
            key = (log.member_id, local.date().replace(day=1))
            count, last = expected.get(key, (0, log.occurred_at))
            expected[key] = (count + 1, max(last, log.occurred_at))
        stored = {
            (v.member_id, v.month): (v.visits, v.last_visit)
            for v in MemberMonthVisits.objects.all()
        }
        assert stored == expected


def test_fold_takes_only_what_changed_since_its_watermark(gym, branch):
    first = datetime(2026, 5, 1, 12, tzinfo=UTC)
    AccessLogFactory(branch=branch, occurred_at=first, received_at=first)
    assert rollups.rollup_fold(organisation_id=gym.pk, now=first + timedelta(hours=1)) == 1
    # Nothing new: nothing redone.
    assert rollups.rollup_fold(organisation_id=gym.pk, now=first + timedelta(hours=2)) == 0
    later = first + timedelta(days=3)
    AccessLogFactory(branch=branch, occurred_at=later, received_at=later)
    assert rollups.rollup_fold(organisation_id=gym.pk, now=later + timedelta(hours=1)) == 1
    with tenant_scope(gym):
        assert DailyFigures.objects.aggregate(n=Sum("checkins"))["n"] == 2
        assert DailyFigures.objects.aggregate(n=Count("pk"))["n"] == 2
        assert RollupState.objects.get().runs == 3


def test_router_sends_report_reads_to_the_replica(settings):
    router = ReplicaRouter()
    assert router.db_for_read(DailyFigures) is None
    assert router.db_for_write(DailyFigures) == "default"
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"]}}
    with report_reads():
        assert report_alias() == REPLICA
        assert router.db_for_read(DailyFigures) == REPLICA
        assert router.db_for_write(DailyFigures) == "default"
    assert router.db_for_read(DailyFigures) is None
    assert not router.allow_migrate(REPLICA, "reports")


@pytest.mark.skipif(
    REPLICA not in __import__("django.conf").conf.settings.DATABASES,
    reason="run with DATABASE_REPLICA_URL set to see reads reach the replica",
)
@pytest.mark.django_db(databases=["default", REPLICA])
def test_report_pages_read_from_the_replica_alias(client_for, owner, two_branches):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = client_for(owner).get(
            reverse("admin:reports_page", kwargs={"area": "attendance"})
        )
    assert response.status_code == 200
    assert any("reports_dailyfigures" in q["sql"] for q in on_replica.captured_queries)
