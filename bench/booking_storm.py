"""Booking storm over HTTP through the real server, with both references in the same run.

    .venv/bin/python bench/booking_storm.py --bookers 500 --capacity 50 --rounds 3 --workers 4

Measurements, on one gunicorn (``--workers`` sync processes) and the database:

1. Storm: ``--bookers`` distinct members (each with an active membership) POST
   ``/api/v1/classes/<id>/book`` for one session of ``--capacity`` places at the same
   moment. Checked against the database: booked ≤ capacity, booked + waitlisted =
   bookers, one row per member, arrival numbers a strict 1..N sequence, counters
   equal to the rows.
2. Bookings per second: the same members as concurrent clients, each booking
   ``--rounds`` sessions big enough for all of them (every request is a real booking:
   eligibility, session lock, booking row, counters, outbox email). All clients hit
   the same session row at once, round after round: the worst case for contention.
3. The references with the same clients and request count: the framework floor (an
   authenticated DRF POST inserting one row, sent with the same members' tokens) and
   the database ceiling (the bare
   ``UPDATE ... SET booked_count = booked_count + 1 WHERE id = %s AND booked_count <
   capacity`` on one row through psycopg; clients capped at ``--db-clients`` because
   the shared PostgreSQL allows 100 connections in all).

Bookings and the floor run ``--repeats`` times, alternating, so a change in the
machine's load during the run weighs on both alike: the ratio reported is the median
of each bookings run over the floor run right after it. Each run also prints the CPU
its requests cost (server workers and database backends).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness


def _branch():
    from decimal import Decimal

    from accounts.models import Branch

    branch, _ = Branch.objects.get_or_create(
        slug="bench-classes",
        defaults={
            "name": "Bench classes branch",
            "address_line": "1 Bench Road",
            "city": "London",
            "latitude": Decimal("51.5"),
            "longitude": Decimal("-0.1"),
            "tax_rate": Decimal("0.2"),
        },
    )
    return branch


def _bookers(organisation, count: int) -> list[tuple[int, str]]:
    """``count`` members with logins and an active unlimited membership (created once)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from accounts.models import Member
    from accounts.tenancy import tenant_scope
    from memberships.models import Membership, Plan

    with tenant_scope(organisation):
        users = harness.bench_members(
            organisation,
            _branch(),
            prefix="booker",
            first_name="Bench",
            last_name="Booker",
            count=count,
        )
        plan, _ = Plan.objects.get_or_create(
            name="Bench unlimited",
            defaults={"kind": Plan.Kind.UNLIMITED, "price": Decimal("50"), "currency": "GBP"},
        )
        members = list(Member.objects.filter(user__in=users))
        with_membership = set(
            Membership.objects.filter(member__in=members).values_list("member_id", flat=True)
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    member=m,
                    payer=m,
                    plan=plan,
                    status=Membership.Status.ACTIVE,
                    start_date=timezone.localdate() - timedelta(days=30),
                    price=plan.price,
                    currency="GBP",
                )
                for m in members
                if m.pk not in with_membership
            ]
        )
    return [(user.pk, harness.access_token_for(user)) for user in users]


def _session(organisation, *, capacity: int, label: str):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tenancy import tenant_scope
    from classes.models import ClassSession, ClassType

    with tenant_scope(organisation):
        class_type, _ = ClassType.objects.get_or_create(
            slug="bench-spin", defaults={"name": "Bench spin", "default_capacity": 20}
        )
        starts_at = timezone.now() + timedelta(days=2)
        return ClassSession.objects.create(
            branch=_branch(),
            class_type=class_type,
            occurrence_date=starts_at.date(),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            capacity=capacity,
        )


def _audit(organisation, session) -> dict:
    """What the database says happened: the only source of truth for the count check."""
    from django.db.models import Count

    from accounts.tenancy import tenant_scope
    from bookings.models import Booking
    from classes.models import ClassSession

    with tenant_scope(organisation):
        session = ClassSession.objects.get(pk=session.pk)
        rows = Booking.objects.filter(session=session)
        statuses = dict(rows.values_list("status").annotate(n=Count("id")))
        arrivals = list(rows.order_by("arrival").values_list("arrival", flat=True))
        members = rows.values("member").distinct().count()
        booked = statuses.get("booked", 0)
        waitlisted = statuses.get("waitlisted", 0)
        first_booked = list(
            rows.order_by("arrival").values_list("status", flat=True)[: session.capacity]
        )
        return {
            "capacity": session.capacity,
            "booked": booked,
            "waitlisted": waitlisted,
            "rows": len(arrivals),
            "overbooked": max(0, booked - session.capacity),
            "duplicates": len(arrivals) - members,
            "arrivals_strict_sequence": arrivals == list(range(1, len(arrivals) + 1)),
            "places_went_to_first_arrivals": all(s == "booked" for s in first_booked),
            "counters_agree": (session.booked_count, session.waitlist_count)
            == (booked, waitlisted),
        }


def _book_requests(session_id: int, tokens: list[str]) -> list[harness.Request]:
    return [
        harness.Request(
            "POST", f"/api/v1/classes/{session_id}/book", {"Authorization": f"Bearer {t}"}, {}
        )
        for t in tokens
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookers", type=int, default=500, help="distinct members (≤ 500)")
    parser.add_argument("--capacity", type=int, default=50, help="places in the storm session")
    parser.add_argument("--rounds", type=int, default=4, help="bookings per member, throughput")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--repeats", type=int, default=5, help="alternating throughput runs")
    parser.add_argument("--db-clients", type=int, default=40)
    args = parser.parse_args()

    database_url = harness.bench_database_url()
    harness.prepare_database(database_url)
    harness.django_setup(database_url)
    organisation = harness.bench_organisation()
    bookers = _bookers(organisation, args.bookers)
    tokens = [token for _user, token in bookers]
    total = args.bookers * args.rounds

    storm_session = _session(organisation, capacity=args.capacity, label="storm")
    repeats = [
        [_session(organisation, capacity=args.bookers, label="round") for _ in range(args.rounds)]
        for _ in range(args.repeats)
    ]
    warm_session = _session(organisation, capacity=400, label="warm")

    # Fresh planner statistics for the rows just created, as a live database has
    # (autovacuum may be off on a shared development server).
    from django.db import connection as setup_connection

    with setup_connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    with harness.Server(database_url, workers=args.workers) as server:
        meter = harness.CpuMeter(server, database_url)
        # Warm every worker (imports, connections) on both endpoints first.
        harness.run_closed(_book_requests(warm_session.pk, tokens[:400]), 50)
        harness.run_closed(harness.floor_requests(tokens[:400]), 50)

        storm = harness.run_closed(_book_requests(storm_session.pk, tokens), args.bookers)
        storm_audit = _audit(organisation, storm_session)

        # Bookings and the floor alternate, with the same clients and request count.
        booking_runs, floor_runs, booking_cpu, floor_cpu = [], [], [], []
        for rounds in repeats:
            requests = []
            for session in rounds:
                requests += _book_requests(session.pk, tokens)
            before = meter.read()
            booking_runs.append(harness.run_closed(requests, args.bookers))
            booking_cpu.append(meter.per_request(before, booking_runs[-1].count))
            before = meter.read()
            floor_runs.append(
                harness.run_closed(harness.floor_requests(tokens * args.rounds), args.bookers)
            )
            floor_cpu.append(meter.per_request(before, floor_runs[-1].count))
        rounds_audit = [_audit(organisation, s) for rounds in repeats for s in rounds]

    from django.db import connection

    connection.close()
    from classes.models import ClassSession

    ceiling_session = _session(organisation, capacity=min(total, 32000), label="ceiling")
    ceiling = harness.db_ceiling(
        database_url,
        f"UPDATE {ClassSession._meta.db_table} SET booked_count = booked_count + 1 "
        "WHERE id = %s AND booked_count < capacity",
        lambda _index: (ceiling_session.pk,),
        min(args.db_clients, args.bookers),
        total,
    )

    def booking_rate(run):
        return run.status_counts().get(201, 0) / run.elapsed if run.elapsed else 0.0

    created = sum(run.status_counts().get(201, 0) for run in booking_runs)
    median_booking = sorted(booking_runs, key=booking_rate)[len(booking_runs) // 2]
    median_floor = sorted(floor_runs, key=lambda run: run.rate)[len(floor_runs) // 2]
    clients = min(args.db_clients, args.bookers)
    print(
        f"booking storm bench: {args.bookers} bookers, {args.workers} gunicorn workers, "
        f"{args.repeats} alternating repeats of {total} bookings / floor requests"
    )
    print(storm.summary(f"storm ({args.capacity} places)"))
    print(f"  storm audit: {json.dumps(storm_audit)}")
    for index, runs in enumerate(
        zip(booking_runs, booking_cpu, floor_runs, floor_cpu, strict=True)
    ):
        b_run, b_cpu, f_run, f_cpu = runs
        print(b_run.summary(f"bookings #{index + 1}"))
        print(f"  {b_cpu}")
        print(f_run.summary(f"framework floor #{index + 1}"))
        print(f"  {f_cpu}")
    print(
        "  rounds audit: "
        + json.dumps(
            {
                "booked": sum(a["booked"] for a in rounds_audit),
                "overbooked": sum(a["overbooked"] for a in rounds_audit),
                "duplicates": sum(a["duplicates"] for a in rounds_audit),
                "counters_agree": all(a["counters_agree"] for a in rounds_audit),
            }
        )
    )
    print(ceiling.summary(f"db ceiling ({clients} conns)"))
    print(
        f"bookings/s (median)   {booking_rate(median_booking):8.1f}  "
        f"p50 {median_booking.percentile(50) * 1000:.0f} ms  "
        f"p99 {median_booking.percentile(99) * 1000:.0f} ms  "
        f"(201s only; {created}/{total * args.repeats})"
    )
    print(
        f"framework floor/s     {median_floor.rate:8.1f}  "
        f"p50 {median_floor.percentile(50) * 1000:.0f} ms  "
        f"p99 {median_floor.percentile(99) * 1000:.0f} ms"
    )
    print(f"db ceiling/s          {ceiling.rate:8.1f}")
    print(harness.pair_ratios_line([booking_rate(run) for run in booking_runs], floor_runs))
    print(
        f"ratio to db ceiling   "
        f"{booking_rate(median_booking) / ceiling.rate if ceiling.rate else 0:8.3f}"
    )
    ok = (
        storm_audit["overbooked"] == 0
        and storm_audit["duplicates"] == 0
        and storm_audit["booked"] == min(args.capacity, args.bookers)
        and storm_audit["arrivals_strict_sequence"]
        and storm_audit["counters_agree"]
    )
    print(
        f"count check: booked {storm_audit['booked']} ≤ capacity {args.capacity}, "
        f"waitlisted {storm_audit['waitlisted']}, duplicates {storm_audit['duplicates']} "
        f"-> {'OK' if ok else 'FAILED'}"
    )


if __name__ == "__main__":
    main()
