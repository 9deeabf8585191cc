"""How long the Stripe webhook takes per event, in-process (Django test client, real
PostgreSQL, signature verification, ledger, billing services, outbox rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spotter_stripe_bench \
        .venv/bin/python -m bench.stripe_webhook 300

Creates a gym with N members who each bought a monthly plan (one open invoice each),
then posts, signed: N ``payment_intent.succeeded`` events (each pays an invoice and
activates a membership), the same N again (duplicates), and N stale
``payment_intent.created`` events. Prints milliseconds per event for each kind.
The database named in DATABASE_URL is dropped and recreated.
"""

import os
import subprocess
import sys
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.check_call(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=os.environ.copy()
    )


def main(n: int) -> None:
    url = os.environ["DATABASE_URL"]
    assert url.rstrip("/").endswith("_bench"), "use a throwaway *_bench database"
    _recreate_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gymsite.settings")
    sys.path.insert(0, ROOT)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.tenancy import tenant_scope
    from accounts.tests.factories import BranchFactory, MemberFactory, OrganisationFactory
    from billing.stripe.models import StripeEvent
    from billing.tests.stripe_factories import StripeAccountFactory, intent, make_event, post_event
    from memberships.services import membership_open_invoices, membership_purchase
    from memberships.tests.factories import PlanFactory

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    gym = OrganisationFactory(domain="bench-gym.test")
    branch = BranchFactory(organisation=gym)
    StripeAccountFactory(organisation=gym)
    plan = PlanFactory(organisation=gym, price=Decimal("40.00"))
    invoices = []
    with tenant_scope(gym):
        for _ in range(n):
            member = MemberFactory(home_branch=branch)
            membership = membership_purchase(member=member, plan=plan)
            invoices.append(membership_open_invoices(membership).get())
    client = Client()
    base = int(time.time())
    paid = [
        make_event(
            "payment_intent.succeeded",
            intent(invoice=invoice, status="succeeded", amount=4800),
            created=base,
        )
        for invoice in invoices
    ]
    stale = [
        make_event(
            "payment_intent.created",
            {**event["data"]["object"], "status": "requires_payment_method"},
            created=base - 5,
        )
        for event in paid
    ]

    from django.db import connection

    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    def run(label, events):
        started = time.perf_counter()
        counted[0] = 0
        with connection.execute_wrapper(count):
            for event in events:
                response = post_event(client, event, host="bench-gym.test")
                assert response.status_code == 200, response.content
        elapsed = time.perf_counter() - started
        print(
            f"{label:<30} {n:>5} events {elapsed * 1000 / n:7.2f} ms/event "
            f"{counted[0] / n:5.1f} queries/event"
        )

    run("succeeded (pay + activate)", paid)
    run("duplicate (ledger hit)", paid)
    run("stale (older state)", stale)
    with tenant_scope(gym):
        assert StripeEvent.objects.filter(status="processed").count() == n


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
