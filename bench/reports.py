"""Reports at chain scale: each report read from the rollups vs the same figure raw.

    .venv/bin/python bench/reports.py                       # reduced size
    .venv/bin/python bench/reports.py --members 100000 --logs 10000000 \
        --bookings 2000000 --invoices 1000000 --branches 20 --years 3   # the full set

Builds the data set in its own database (``spotter_bench_reports`` on DATABASE_URL's
server) with set-based SQL: one template row per table is made through the ORM and
cloned with ``generate_series``, so ten million access-log rows take minutes, not
hours. Then the rollups are rebuilt for the whole history (timed), and for each
report (a year, every branch) the selector is timed cold (first call on a fresh
connection) and warm (median of 5), beside the headline figure computed straight
from the raw tables in the same run. The API is timed through DRF's test client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "spotter_bench_reports"


def _database_url() -> str:
    base = os.environ.get("DATABASE_URL")
    if not base:
        base = subprocess.check_output(
            [sys.executable, "-m", "gymsite.devdb"], cwd=ROOT, text=True
        ).strip()
    return urlunsplit(urlsplit(base)._replace(path=f"/{DB_NAME}"))


def _prepare(database_url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        c.execute(f"CREATE DATABASE {DB_NAME}")
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "SECRET_KEY": "bench"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip


def _setup_django(database_url: str) -> None:
    os.environ.update(
        {"DATABASE_URL": database_url, "DEBUG": "false", "SECRET_KEY": "bench-reports",
         "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "testserver,bench.test",
         "SECURE_SSL_REDIRECT": "false"}
    )  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gymsite.settings")
    import django

    django.setup()


def _clone(cursor, table: str, template_id: int, count: int, overrides: dict[str, str]):
    """INSERT ``count`` copies of one row, with SQL expressions of ``g`` (1..count)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    columns = [c for (c,) in cursor.fetchall() if c != "id"]
    select = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} "
        f"FROM {table} t, generate_series(1, {count}) AS g WHERE t.id = {template_id}"
    )


def _seed(args):
    from django.db import connection

    from access.tests.factories import AccessLogFactory
    from accounts.models import Organisation, Role
    from accounts.tests.factories import (
        BranchFactory,
        MemberFactory,
        OrganisationFactory,
        RoleAssignmentFactory,
        UserFactory,
    )  # fmt: skip
    from billing.tests.factories import InvoiceFactory, InvoiceLineFactory, PaymentFactory
    from bookings.tests.factories import BookingFactory
    from classes.tests.factories import ClassSessionFactory
    from memberships.tests.factories import MembershipFactory, PlanFactory

    gym = OrganisationFactory(name="Bench chain", slug="bench", domain="bench.test")
    zones = ["Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
    branches = [
        BranchFactory(organisation=gym, name=f"Branch {i:02d}", slug=f"b{i}",
                      timezone=zones[i % len(zones)])
        for i in range(args.branches)
    ]  # fmt: skip
    owner = UserFactory(email="owner@bench.test")
    RoleAssignmentFactory(user=owner, organisation=gym, branch=None, role=Role.OWNER)
    plans = [PlanFactory(organisation=gym, name=f"Plan {i}", price=Decimal(20 + 10 * i))
             for i in range(4)]  # fmt: skip
    member = MemberFactory(
        organisation=gym,
        home_branch=branches[0],
        user=None,
        first_name="M",
        last_name="B",
        email="m@bench.test",
    )
    membership = MembershipFactory(member=member, plan=plans[0])
    days = 365 * args.years
    b0, nb = branches[0].pk, len(branches)
    p0 = plans[0].pk
    log = AccessLogFactory(branch=branches[0], member=member)
    invoice = InvoiceFactory(branch=branches[0], payer=member)
    line = InvoiceLineFactory(invoice=invoice, organisation=gym, description="x", quantity=1,
                              unit_price=1, subtotal=1, tax_amount=0, total=1)  # fmt: skip
    payment = PaymentFactory(invoice=invoice)
    session = ClassSessionFactory(branch=branches[0])
    booking = BookingFactory(session=session, member=member, membership=membership)
    t0 = time.perf_counter()
    big = (
        "accounts_member",
        "memberships_membership",
        "access_accesslog",
        "billing_invoice",
        "billing_invoiceline",
        "billing_payment",
        "classes_classsession",
        "bookings_booking",
    )
    with connection.cursor() as c:
        # Loading is faster without the secondary indexes: drop them, rebuild after.
        c.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            [list(big)],
        )
        dropped = c.fetchall()
        for name, _definition in dropped:
            c.execute(f"DROP INDEX {name}")
        c.execute("SET synchronous_commit = off")
        m0 = member.pk
        _clone(c, "accounts_member", m0, args.members - 1, {
            "home_branch_id": f"{b0} + g % {nb}",
            "joined_at": f"now() - (g % {days}) * interval '1 day' - (g % 977) * interval '1 minute'",
            "email": "'m' || g || '@bench.test'",
        })  # fmt: skip
        c.execute(f"SELECT min(id), max(id) FROM accounts_member WHERE organisation_id = {gym.pk}")
        lo, hi = c.fetchone()
        span = hi - lo + 1
        _clone(c, "memberships_membership", membership.pk, args.members - 1, {
            "member_id": f"{lo} + g", "payer_id": f"{lo} + g",
            "plan_id": f"{p0} + g % 4", "price": "20 + 10 * (g % 4)",
            "start_date": f"current_date - (g % {days})",
            "status": "CASE WHEN g % 5 = 0 THEN 'cancelled' ELSE 'active' END",
            "cancels_on": f"CASE WHEN g % 5 = 0 THEN current_date - (g % {days}) / 2 END",
            "end_date": f"CASE WHEN g % 5 = 0 THEN current_date - (g % {days}) / 2 END",
            "cancellation_reason": "CASE WHEN g % 5 = 0 THEN (ARRAY['moving','price','injury'])[g % 3 + 1] ELSE '' END",
        })  # fmt: skip
        print(f"members + memberships: {time.perf_counter() - t0:.1f}s", flush=True)
        _clone(c, "access_accesslog", log.pk, args.logs, {
            "branch_id": f"{b0} + g % {nb}", "member_id": f"{lo} + g % {span}",
            "occurred_at": f"now() - (g % {days * 24 * 60}) * interval '1 minute' - interval '1 day'",
            "received_at": "now() - interval '1 day'",
            "request_id": "NULL", "device_id": "NULL", "credential_id": "NULL", "membership_id": "NULL",
        })  # fmt: skip
        print(f"access log: {time.perf_counter() - t0:.1f}s", flush=True)
        _clone(c, "billing_invoice", invoice.pk, args.invoices, {
            "branch_id": f"{b0} + g % {nb}", "payer_id": f"{lo} + g % {span}",
            "number": "1000000 + g", "billing_key": "NULL",
            "issued_at": f"now() - (g % {days * 24}) * interval '1 hour' - interval '1 day'",
            "subtotal": "30 + g % 40", "tax_total": "(30 + g % 40) * 0.2",
            "total": "(30 + g % 40) * 1.2", "amount_paid": "(30 + g % 40) * 1.2",
            "status": "CASE WHEN g % 17 = 0 THEN 'open' ELSE 'paid' END",
            "collection_attempts": "CASE WHEN g % 13 = 0 THEN 1 ELSE 0 END",
        })  # fmt: skip
        c.execute("SELECT min(id) FROM billing_invoice WHERE number > 1000000")
        (i0,) = c.fetchone()
        _clone(c, "billing_invoiceline", line.pk, args.invoices, {
            "invoice_id": f"{i0} - 1 + g", "subtotal": "30 + g % 40",
            "tax_amount": "(30 + g % 40) * 0.2", "total": "(30 + g % 40) * 1.2",
            "source_type": "'memberships.membership'",
            "source_id": f"({membership.pk} + g % {args.members})::text",
        })  # fmt: skip
        _clone(c, "billing_payment", payment.pk, args.invoices, {
            "invoice_id": f"{i0} - 1 + g", "branch_id": f"{b0} + g % {nb}",
            "payer_id": f"{lo} + g % {span}", "amount": "(30 + g % 40) * 1.2",
            "idempotency_key": "NULL", "reference": "''",
            "provider": "CASE WHEN g % 3 = 0 THEN 'manual' ELSE 'stripe' END",
            "status": "CASE WHEN g % 11 = 0 THEN 'failed' ELSE 'succeeded' END",
            "completed_at": f"now() - (g % {days * 24}) * interval '1 hour' - interval '1 day'",
            "created_at": f"now() - (g % {days * 24}) * interval '1 hour' - interval '1 day'",
            "payment_method_id": "NULL",
        })  # fmt: skip
        print(f"invoices + lines + payments: {time.perf_counter() - t0:.1f}s", flush=True)
        sessions = max(1, args.bookings // 20)
        _clone(c, "classes_classsession", session.pk, sessions, {
            "branch_id": f"{b0} + g % {nb}", "schedule_id": "NULL", "occurrence_date": "current_date",
            "room_id": "NULL", "capacity": "24",
            "starts_at": f"now() - (g % {days * 12}) * interval '2 hour' - interval '1 day'",
            "ends_at": f"now() - (g % {days * 12}) * interval '2 hour' - interval '1 day' + interval '1 hour'",
        })  # fmt: skip
        c.execute("SELECT min(id) FROM classes_classsession WHERE id > %s", [session.pk])
        (s0,) = c.fetchone()
        _clone(c, "bookings_booking", booking.pk, sessions * 20, {
            "session_id": f"{s0} + (g - 1) / 20", "member_id": f"{lo} + g % {span}",
            "membership_id": "NULL", "arrival": "(g - 1) % 20 + 1",
            "status": "(ARRAY['attended','attended','attended','no_show','late_cancelled','booked'])[g % 6 + 1]",
        })  # fmt: skip
        print(f"sessions + bookings: {time.perf_counter() - t0:.1f}s", flush=True)
        for _name, definition in dropped:
            c.execute(definition)
        c.execute("ANALYZE")
        print(f"indexes rebuilt, analysed: {time.perf_counter() - t0:.1f}s", flush=True)
    return Organisation.objects.get(pk=gym.pk), owner


RAW = {
    # The headline figure of each report, straight from the raw tables.
    "revenue": """SELECT sum(i.subtotal) FROM billing_invoice i JOIN accounts_branch b ON b.id = i.branch_id
        WHERE i.organisation_id = %(org)s AND i.status IN ('open','paid','uncollectible')
          AND (i.issued_at AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s""",
    "members": """SELECT count(*) FROM memberships_membership ms JOIN accounts_member m ON m.id = ms.member_id
        WHERE ms.organisation_id = %(org)s AND ms.status <> 'pending' AND ms.start_date <= %(end)s
          AND (ms.status NOT IN ('cancelled','expired','suspended') OR LEAST(ms.cancels_on, ms.end_date) > %(end)s)""",
    "attendance": """SELECT count(*), extract(isodow FROM a.occurred_at AT TIME ZONE b.timezone),
        extract(hour FROM a.occurred_at AT TIME ZONE b.timezone)
        FROM access_accesslog a JOIN accounts_branch b ON b.id = a.branch_id
        WHERE a.organisation_id = %(org)s AND a.result = 'granted' AND a.direction = 'in'
          AND (a.occurred_at AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s GROUP BY 2, 3""",
    "shop": """SELECT sum(ol.subtotal) FROM inventory_orderline ol JOIN inventory_order o ON o.id = ol.order_id
        JOIN accounts_branch b ON b.id = o.branch_id WHERE o.organisation_id = %(org)s
          AND (COALESCE(o.paid_at, o.created_at) AT TIME ZONE b.timezone)::date BETWEEN %(start)s AND %(end)s""",
}  # fmt: skip


def _timed(fn, repeats=5):
    from django.db import connections

    connections.close_all()
    t = time.perf_counter()
    fn()
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        warm.append(time.perf_counter() - t)
    return cold, statistics.median(warm)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--logs", type=int, default=1000000)
    parser.add_argument("--bookings", type=int, default=200000)
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument("--branches", type=int, default=20)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--days", type=int, default=365, help="length of the reported period")
    parser.add_argument("--reuse", action="store_true", help="keep the data set of the last run")
    args = parser.parse_args()
    url = _database_url()
    if not args.reuse:
        _prepare(url)
    _setup_django(url)
    from django.db import connection
    from django.utils import timezone

    from reports import rollups

    if args.reuse:
        from accounts.models import Organisation, User

        gym, owner = (
            Organisation.objects.get(slug="bench"),
            User.objects.get(email="owner@bench.test"),
        )
    else:
        gym, owner = _seed(args)
    today = timezone.localdate()
    if args.reuse:
        start, end = today - timedelta(days=args.days - 1), today
        return _time_reports(args, gym, owner, start, end)
    t = time.perf_counter()
    rollups.rollup_rebuild(organisation_id=gym.pk, start=today - timedelta(days=365 * args.years + 2),
                           end=today)  # fmt: skip
    print(f"rollup rebuild, {args.years} years x {args.branches} branches: "
          f"{time.perf_counter() - t:.1f}s", flush=True)  # fmt: skip
    # The fold re-reads a 10-minute overlap behind its watermark; the data set was just
    # written, so the folds here run as if a quarter of an hour later.
    later = timezone.now() + timedelta(minutes=15)
    t = time.perf_counter()
    rollups.rollup_fold(organisation_id=gym.pk, now=later)
    print(f"first fold (everything is new): {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    rollups.rollup_fold(organisation_id=gym.pk, now=later + timedelta(minutes=15))
    print(f"second fold (nothing changed): {time.perf_counter() - t:.3f}s")
    # Five minutes of a busy chain: 1,000 check-ins and 200 bookings marked attended.
    with connection.cursor() as c:
        c.execute("SELECT min(id) FROM access_accesslog")
        (first_log,) = c.fetchone()
        _clone(c, "access_accesslog", first_log, 1000, {
            "branch_id": "branch_id + 0 * g", "occurred_at": "now() - g * interval '1 second'",
            "received_at": f"'{later.isoformat()}'::timestamptz + interval '20 minutes'",
            "request_id": "NULL",
        })  # fmt: skip
        c.execute(
            "UPDATE bookings_booking SET attendance_marked_at = %s WHERE id IN "
            "(SELECT id FROM bookings_booking ORDER BY id DESC LIMIT 200)",
            [later + timedelta(minutes=20)],
        )
    t = time.perf_counter()
    done = rollups.rollup_fold(organisation_id=gym.pk, now=later + timedelta(minutes=45))
    print(f"fold after 1,000 check-ins and 200 bookings: {time.perf_counter() - t:.3f}s "
          f"({done} branch-days redone)")  # fmt: skip
    start, end = today - timedelta(days=args.days - 1), today
    _time_reports(args, gym, owner, start, end)


def _time_reports(args, gym, owner, start, end):
    from django.db import connection
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.tenancy import tenant_scope
    from reports import selectors
    from reports.db import report_reads

    params = {"org": gym.pk, "start": start, "end": end}
    print(f"\nperiod {start}..{end}, {args.branches} branches")
    print(f"{'report':12} {'cold ms':>9} {'warm ms':>9} {'raw ms':>9} {'x faster':>9}")
    client = APIClient(HTTP_HOST="bench.test")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    for area, build in selectors.AREAS.items():

        def page(build=build):
            with tenant_scope(gym), report_reads():
                build(selectors.period_for(start=start, end=end))

        cold, warm = _timed(page)

        def raw(area=area):
            with connection.cursor() as c:
                c.execute(RAW[area], params)
                c.fetchall()

        _rc, raw_warm = _timed(raw, repeats=3)
        print(f"{area:12} {cold * 1000:9.0f} {warm * 1000:9.0f} {raw_warm * 1000:9.0f} "
              f"{raw_warm / warm:9.1f}", flush=True)  # fmt: skip

        def api(area=area):
            response = client.get(f"/api/v1/admin/reports/{area}",
                                  {"start": start.isoformat(), "end": end.isoformat()})  # fmt: skip
            assert response.status_code == 200, response.content[:300]

        cold, warm = _timed(api)
        print(f"{'  api':12} {cold * 1000:9.0f} {warm * 1000:9.0f}", flush=True)


if __name__ == "__main__":
    main()
