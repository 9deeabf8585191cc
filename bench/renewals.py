"""Renewal job throughput: renew N due memberships and report the time per 1,000.

    .venv/bin/python bench/renewals.py --sizes 1000 10000 100000 --history 3

For each N a fresh gym is created in a dedicated database (``spotter_bench_renewals``
on DATABASE_URL's server) with N members, each holding a saved sandbox card and a
monthly membership whose period ended yesterday, plus ``--history`` paid invoices
(lines and payments) per membership from earlier months, so the job runs against a
billing history, not an empty table. Then the real daily job
(``memberships.services.memberships_renew_due``) runs in chunks of 1,000 until
nothing is due: for each membership it locks the row, issues the invoice (numbered,
taxed, with account charges), charges the card through the provider interface
(outside the transaction), records the payment, advances the period and queues the
receipt and renewal emails in the outbox.

Reported per N: total seconds, seconds per 1,000 (overall, first chunk, last chunk)
and SQL queries per membership (counted on one chunk of 100 before the timed run).
Cost per membership must not grow with N.

The outbox's after-commit broker publish goes to kombu's in-memory transport (no
Redis here); the outbox rows themselves are written as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "spotter_bench_renewals"
CHUNK = 1000


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
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            c.execute(f"CREATE DATABASE {DB_NAME}")
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "false", "SECRET_KEY": "bench"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _setup_django(database_url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-renewals",
            "BILLING_SANDBOX_ENABLED": "true",
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "locmem://",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gymsite.settings")
    import django

    django.setup()
    from gymsite.celery import app

    app.conf.broker_url = "memory://"
    app.conf.task_always_eager = False


def _seed(size: int, history: int):
    """A new gym with ``size`` due memberships and ``history`` paid months each."""
    from django.utils import timezone

    from accounts.models import Branch, Member, Organisation
    from accounts.tenancy import tenant_scope
    from billing.models import DocumentCounter, Invoice, InvoiceLine, Payment, PaymentMethod
    from memberships.models import Membership, Plan
    from memberships.services import period_end_for

    stamp = f"{size}-{int(time.time())}"
    organisation = Organisation.objects.create(
        name=f"Renewals bench {stamp}", slug=f"bench-renewals-{stamp}", currency="GBP"
    )
    today = timezone.localdate()
    with tenant_scope(organisation):
        branch = Branch.objects.create(
            name="Bench",
            slug="bench",
            address_line="1 Bench Road",
            city="London",
            latitude=Decimal("51.5"),
            longitude=Decimal("-0.1"),
            tax_rate=Decimal("0.2000"),
        )
        plan = Plan.objects.create(
            name="Monthly",
            kind=Plan.Kind.RECURRING,
            price=Decimal("40.00"),
            currency="GBP",
            billing_interval=Plan.Interval.MONTH,
        )
        batch = 5000
        members = Member.objects.bulk_create(
            [
                Member(
                    organisation=organisation,
                    first_name=f"Member{i}",
                    last_name="Bench",
                    email=f"m{i}@bench.test",
                    home_branch=branch,
                )
                for i in range(size)
            ],
            batch_size=batch,
        )
        PaymentMethod.objects.bulk_create(
            [
                PaymentMethod(
                    organisation=organisation,
                    member=m,
                    provider="sandbox",
                    method_reference=f"pm_card_{m.pk}",
                    brand="visa",
                    last4="4242",
                )
                for m in members
            ],
            batch_size=batch,
        )
        # Periods: `history` paid months, the current one ended yesterday.
        starts = []
        end = today - timedelta(days=1)
        for _ in range(history + 1):
            start = end - timedelta(days=29)
            starts.insert(0, (start, end))
            end = start - timedelta(days=1)
        current_start, current_end = starts[-1]
        memberships = Membership.objects.bulk_create(
            [
                Membership(
                    organisation=organisation,
                    member=m,
                    payer=m,
                    plan=plan,
                    branch=branch,
                    status=Membership.Status.ACTIVE,
                    start_date=starts[0][0],
                    current_period_start=current_start,
                    current_period_end=current_end,
                    auto_renew=True,
                    price=plan.price,
                    currency="GBP",
                )
                for m in members
            ],
            batch_size=batch,
        )
        number = 0
        issued = timezone.now() - timedelta(days=30 * history)
        for start, stop in starts:
            invoices = []
            for membership in memberships:
                number += 1
                invoices.append(
                    Invoice(
                        organisation=organisation,
                        branch=branch,
                        payer_id=membership.member_id,
                        number=number,
                        status=Invoice.Status.PAID,
                        currency="GBP",
                        subtotal=Decimal("40.00"),
                        tax_total=Decimal("8.00"),
                        total=Decimal("48.00"),
                        amount_paid=Decimal("48.00"),
                        issued_at=issued,
                        paid_at=issued,
                        due_date=start,
                        billing_key=f"membership:{membership.pk}:{start.isoformat()}",
                    )
                )
            invoices = Invoice.objects.bulk_create(invoices, batch_size=batch)
            InvoiceLine.objects.bulk_create(
                [
                    InvoiceLine(
                        organisation=organisation,
                        invoice=invoice,
                        description=f"Monthly ({start} – {stop})",
                        unit_price=Decimal("40.00"),
                        tax_rate=Decimal("0.2000"),
                        subtotal=Decimal("40.00"),
                        tax_amount=Decimal("8.00"),
                        total=Decimal("48.00"),
                        source_type="memberships.membership",
                        source_id=str(membership.pk),
                        period_start=start,
                        period_end=stop,
                    )
                    for invoice, membership in zip(invoices, memberships, strict=True)
                ],
                batch_size=batch,
            )
            Payment.objects.bulk_create(
                [
                    Payment(
                        organisation=organisation,
                        invoice=invoice,
                        branch=branch,
                        payer_id=invoice.payer_id,
                        amount=Decimal("48.00"),
                        currency="GBP",
                        provider="sandbox",
                        reference=f"ch_hist_{invoice.pk}",
                        status=Payment.Status.SUCCEEDED,
                        completed_at=issued,
                    )
                    for invoice in invoices
                ],
                batch_size=batch,
            )
            issued += timedelta(days=30)
        DocumentCounter.objects.create(kind=DocumentCounter.Kind.INVOICE, last_number=number)
        assert period_end_for(plan, current_start) >= current_end
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return organisation


def _run(size: int, history: int, renew_limit: int | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.tenancy import tenant_scope
    from billing.models import Invoice
    from memberships.models import Membership
    from memberships.services import memberships_renew_due

    started = time.perf_counter()
    organisation = _seed(size, history)
    seeded = time.perf_counter() - started
    today = timezone.localdate()
    chunk_times = []
    with tenant_scope(organisation):
        # Queries per membership, counted on a first small chunk.
        with CaptureQueriesContext(connection) as queries:
            sample = memberships_renew_due(today=today, limit=100)
        per_membership = len(queries) / max(sample["billed"], 1)
        renewed = sample["billed"]
        t0 = time.perf_counter()
        while renew_limit is None or renewed < renew_limit:
            c0 = time.perf_counter()
            result = memberships_renew_due(today=today, limit=CHUNK)
            if result["billed"] == 0:
                break
            chunk_times.append((time.perf_counter() - c0) / result["billed"] * 1000)
            renewed += result["billed"]
        elapsed = time.perf_counter() - t0
        timed = renewed - sample["billed"]
        paid = Invoice.objects.filter(status=Invoice.Status.PAID, due_date=today).count()
        advanced = Membership.objects.filter(current_period_start=today).count()
    return {
        "memberships": size,
        "paid_invoices_before_per_membership": history + 1,
        "seed_seconds": round(seeded, 1),
        "renewed": renewed,
        "paid_invoices": paid,
        "periods_advanced": advanced,
        "seconds": round(elapsed, 2),
        "seconds_per_1000": round(elapsed / timed * 1000, 2) if timed else None,
        "first_chunk_seconds_per_1000": round(chunk_times[0], 2) if chunk_times else None,
        "last_chunk_seconds_per_1000": round(chunk_times[-1], 2) if chunk_times else None,
        "queries_per_membership": round(per_membership, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--history", type=int, default=3)
    parser.add_argument(
        "--renew-limit",
        type=int,
        default=None,
        help="stop after renewing this many (the rest stay due): a partial run on a big table",
    )
    args = parser.parse_args()
    database_url = _database_url()
    _prepare(database_url)
    _setup_django(database_url)
    for size in args.sizes:
        result = _run(size, args.history, args.renew_limit)
        print(json.dumps(result), flush=True)
        print(
            f"N={size:>7,}: {result['seconds_per_1000']} s per 1,000 renewals "
            f"(first chunk {result['first_chunk_seconds_per_1000']}, last chunk "
            f"{result['last_chunk_seconds_per_1000']}), "
            f"{result['queries_per_membership']} queries per membership",
            flush=True,
        )


if __name__ == "__main__":
    main()
