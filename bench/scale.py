"""Chain scale: build a chain's data set, then time every big back-office list.

    .venv/bin/python bench/scale.py --members 100000 --visits 2000000 \\
        --bookings 300000 --invoices 200000 --repeats 5

The data set goes into its own database (``<DATABASE_URL name>_chain``), built once
with set-based SQL (``generate_series``): 20 branches, members with one monthly
membership each, visits over the last year, sessions and bookings, invoices with one
payment each. ``--rebuild`` drops and rebuilds it. Each list is then fetched in
process through Django's test client as the owner (the full view, template and ORM
path; no HTTP server or network in the figure): page 1, a deep page, a search and a
filter, ``--repeats`` times, printing p50 / max milliseconds and SQL statements.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

BRANCHES = 20
DEEP = "150"  # page 150 of 50 rows: offset 7,450


def _database_url() -> str:
    return harness.bench_database_url().removesuffix("_bench") + "_chain"


def _build(args) -> None:
    from django.db import connection

    from accounts.models import Branch
    from accounts.tenancy import tenant_scope
    from classes.models import ClassType
    from memberships.models import Plan

    organisation = harness.bench_organisation()
    with tenant_scope(organisation):
        if Branch.objects.exists():
            return
        started = time.perf_counter()
        Branch.objects.bulk_create(
            [
                Branch(
                    organisation=organisation,
                    name=f"Branch {n:02d}",
                    slug=f"branch-{n:02d}",
                    timezone="Europe/London",
                    latitude=0,
                    longitude=0,
                )
                for n in range(BRANCHES)
            ]
        )
        plan = Plan.objects.create(
            organisation=organisation, name="Monthly", price="30.00", currency="GBP"
        )
        class_type = ClassType.objects.create(organisation=organisation, name="Spin", slug="spin")
    org = organisation.pk
    sessions = max(args.bookings // 20, 1)
    steps = [
        (
            "members",
            """
            INSERT INTO accounts_member (organisation_id, home_branch_id, first_name, last_name,
                email, phone, emergency_contact_name, emergency_contact_phone, photo, goals,
                notes, status, joined_at)
            SELECT %(org)s, b.ids[1 + g %% %(nb)s], 'First' || g, 'Last' || (g * 7919 %% 50000),
                'member' || g || '@scale.test', '', '', '', '', '', '', 'active',
                now() - (g %% 1000) * interval '1 day'
            FROM generate_series(1, %(members)s) g,
                 (SELECT array_agg(id ORDER BY id) ids FROM accounts_branch
                  WHERE organisation_id = %(org)s) b
            """,
        ),
        (
            "memberships",
            """
            INSERT INTO memberships_membership (organisation_id, member_id, payer_id, plan_id,
                status, start_date, current_period_start, current_period_end, auto_renew,
                price, currency, cancellation_reason, created_at, updated_at)
            SELECT %(org)s, m.id, m.id, %(plan)s, 'active',
                current_date - (m.id %% 365)::int, current_date - (m.id %% 28)::int,
                current_date - (m.id %% 28)::int + 29, true, 30, 'GBP', '', now(), now()
            FROM accounts_member m WHERE m.organisation_id = %(org)s
            """,
        ),
        (
            "visits",
            """
            INSERT INTO access_accesslog (organisation_id, branch_id, member_id, occurred_at,
                received_at, direction, result, reason, source, entry_consumed, presented, note)
            SELECT %(org)s, m.home_branch_id, m.id, t, t, 'in',
                CASE WHEN g %% 20 = 0 THEN 'denied' ELSE 'granted' END,
                CASE WHEN g %% 20 = 0 THEN 'no_membership' ELSE 'ok' END,
                'online', false, '', ''
            FROM generate_series(1, %(visits)s) g
            CROSS JOIN LATERAL (SELECT now() - (g::float / %(visits)s) * interval '365 days' t) ts
            JOIN accounts_member m ON m.id = (SELECT min(id) FROM accounts_member
                                                WHERE organisation_id = %(org)s)
                                             + (g::bigint * 104729) %% %(members)s
            ORDER BY t
            """,
        ),
        (
            "sessions",
            """
            INSERT INTO classes_classsession (organisation_id, branch_id, class_type_id,
                occurrence_date, starts_at, ends_at, capacity, booked_count, waitlist_count,
                arrival_seq, status, cancellation_reason, is_customised, created_at)
            SELECT %(org)s, b.ids[1 + g %% %(nb)s], %(class_type)s, (s)::date, s,
                s + interval '1 hour', 25, 20, 0, 20, 'scheduled', '', false, now()
            FROM generate_series(1, %(sessions)s) g,
                 LATERAL (SELECT now() - interval '300 days'
                          + (g::float / %(sessions)s) * interval '330 days' s) st,
                 (SELECT array_agg(id ORDER BY id) ids FROM accounts_branch
                  WHERE organisation_id = %(org)s) b
            """,
        ),
        (
            "bookings",
            """
            INSERT INTO bookings_booking (organisation_id, session_id, member_id, credit_held,
                status, arrival, is_override, override_reason, created_at,
                cancellation_reason, fee_charged)
            SELECT %(org)s, s.id, mm.first + ((s.id * 31 + k * 997) %% %(members)s), false,
                'booked', k, false, '', s.starts_at - interval '2 days', '', 0
            FROM classes_classsession s
            CROSS JOIN generate_series(1, 20) k
            CROSS JOIN (SELECT min(id) first FROM accounts_member
                        WHERE organisation_id = %(org)s) mm
            WHERE s.organisation_id = %(org)s
            ON CONFLICT DO NOTHING
            """,
        ),
        (
            "invoices",
            """
            INSERT INTO billing_invoice (organisation_id, branch_id, payer_id, number, status,
                currency, subtotal, tax_total, total, amount_paid, amount_credited,
                amount_refunded, collection_attempts, collection_claims, issued_at,
                due_date, paid_at, created_at)
            SELECT %(org)s, m.home_branch_id, m.id, g, 'paid', 'GBP', 25, 5, 30, 30, 0, 0, 0,
                0, t, t::date, t, t
            FROM generate_series(1, %(invoices)s) g
            CROSS JOIN LATERAL (SELECT now() - (1 - g::float / %(invoices)s)
                                * interval '365 days' t) ts
            JOIN accounts_member m ON m.id = (SELECT min(id) FROM accounts_member
                                                WHERE organisation_id = %(org)s)
                                             + g %% %(members)s
            """,
        ),
        (
            "payments",
            """
            INSERT INTO billing_payment (organisation_id, branch_id, invoice_id, payer_id,
                amount, currency, provider, reference, status, failure_code, failure_message,
                amount_refunded, created_at, completed_at, takeovers)
            SELECT organisation_id, branch_id, id, payer_id, 30, 'GBP', 'manual',
                'scale-' || id, 'succeeded', '', '', 0, created_at, created_at, 0
            FROM billing_invoice WHERE organisation_id = %(org)s
            """,
        ),
    ]
    params = {
        "org": org,
        "nb": BRANCHES,
        "plan": plan.pk,
        "class_type": class_type.pk,
        "members": args.members,
        "visits": args.visits,
        "sessions": sessions,
        "invoices": args.invoices,
    }
    with connection.cursor() as cursor:
        for name, sql in steps:
            step = time.perf_counter()
            cursor.execute(sql, params)
            print(f"  {name}: {cursor.rowcount} rows in {time.perf_counter() - step:.1f} s")
    with connection.cursor() as cursor:
        for table in (
            "accounts_member",
            "memberships_membership",
            "access_accesslog",
            "classes_classsession",
            "bookings_booking",
            "billing_invoice",
            "billing_payment",
        ):
            # As autovacuum would after the load: statistics, and the visibility map
            # that lets index-only scans (the capped counts) skip the heap.
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"built in {time.perf_counter() - started:.0f} s")


LISTS = {
    "access log": (
        "/admin/access/accesslog/",
        {"p": DEEP},
        {"q": "Last4242"},
        {"result__exact": "denied"},
    ),
    "members": ("/admin/accounts/member/", {"p": DEEP}, {"q": "Last4242"}, {"status": "active"}),
    "memberships": (
        "/admin/memberships/membership/",
        {"p": DEEP},
        {"q": "Last4242"},
        {"status__exact": "active"},
    ),
    "invoices": (
        "/admin/billing/invoice/",
        {"p": DEEP},
        {"q": "Last4242"},
        {"status__exact": "paid"},
    ),
    "payments": (
        "/admin/billing/payment/",
        {"p": DEEP},
        {"q": "Last4242"},
        {"status__exact": "succeeded"},
    ),
    "bookings": (
        "/admin/bookings/booking/",
        {"p": DEEP},
        {"q": "Last4242"},
        {"status__exact": "booked"},
    ),
    "class sessions": (
        "/admin/classes/classsession/",
        {"p": DEEP},
        {"q": "Spin"},
        {"status__exact": "scheduled"},
    ),
}


PORTAL = [
    "/portal/",
    "/memberships/",
    "/classes/",
    "/bookings/",
    "/billing/invoices/",
    "/access/visits/",
]
API = [
    "/api/v1/classes",
    "/api/v1/bookings",
    "/api/v1/invoices",
    "/api/v1/access/me/visits",
    "/api/v1/plans",
    "/api/v1/branches",
]


def _member_user():
    """A login for the busiest member (the one with the most visits)."""
    from accounts.models import Member, User
    from accounts.tenancy import tenant_scope

    organisation = harness.bench_organisation()
    user, _ = User.objects.get_or_create(email="scale-member@bench.test")
    with tenant_scope(organisation):
        if not Member.objects.filter(user=user).exists():
            member = Member.objects.filter(user__isnull=True).order_by("pk").first()
            member.user = user
            member.save(update_fields=["user"])
    return user


def _time(client, url, params, repeats) -> tuple[float, float, float, int, int]:
    """p50 and max of the whole request, p50 of its time in SQL, statements, status."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, sql, statements, status = [], [], 0, 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        statements, status = len(queries), response.status_code
    return statistics.median(times), max(times), statements, status, statistics.median(sql)


def _measure(args) -> None:
    from django.test import Client

    user = harness.bench_user("scale-owner@bench.test")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    print(f"{'list':<16}{'case':<8}{'p50 ms':>9}{'max ms':>9}{'stmts':>7}{'sql ms':>8}")
    for name, (url, deep, search, filt) in LISTS.items():
        for case, params in (("page 1", {}), ("deep", deep), ("search", search), ("filter", filt)):
            while params.get("p") and client.get(url, params).status_code == 302:
                params = {"p": str(int(params["p"]) // 2)}  # fewer pages than that
            client.get(url, params)  # warm: templates, caches, plan cache
            p50, worst, statements, status, sql = _time(client, url, params, args.repeats)
            if status != 200:
                raise SystemExit(f"{url} {params}: HTTP {status}")
            print(f"{name:<16}{case:<8}{p50:>9.1f}{worst:>9.1f}{statements:>7}{sql:>8.1f}")
    member = _member_user()
    portal = Client(HTTP_HOST="127.0.0.1")
    portal.force_login(member, backend="allauth.account.auth_backends.AuthenticationBackend")
    api = Client(
        HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {harness.access_token_for(member)}"
    )
    for label, client_, urls in (("portal", portal, PORTAL), ("api", api, API)):
        for url in urls:
            client_.get(url)
            p50, worst, statements, status, sql = _time(client_, url, {}, args.repeats)
            print(
                f"{label:<8}{url:<24}{p50:>9.1f}{worst:>9.1f}{statements:>7}{sql:>8.1f}  {status}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--visits", type=int, default=2_000_000)
    parser.add_argument("--bookings", type=int, default=300_000)
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    url = _database_url()
    if args.rebuild:
        import psycopg

        admin = harness.libpq_url(url.rsplit("/", 1)[0] + "/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}")
    harness.prepare_database(url)
    harness.django_setup(url)
    from django.conf import settings

    # In process, without collectstatic: plain static URLs instead of the manifest's.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    _build(args)
    _measure(args)


if __name__ == "__main__":
    main()
