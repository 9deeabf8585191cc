"""Door check-in under load, through gunicorn, with a million-row access log.

    .venv/bin/python bench/checkin.py --workers 4 --clients 64 --requests 4000 --rounds 3

In one run, against the same server:
1. the framework floor: ``POST /api/v1/bench/device-floor`` — the same device-key
   authentication as the check-in, then one trivial INSERT;
2. ``POST /api/v1/access/checkin`` with a card of a member holding an active
   membership (every decision read from the live rows, one access-log INSERT);
   both closed loop with ``--clients`` concurrent devices, alternating, ``--rounds``
   times (the median is reported) and their ratio, with the CPU each request cost
   the server's workers and the database's backends (steadier than requests per
   second when other work shares the machine);
3. check-ins at a steady offered ``--rate`` per second for ``--duration`` seconds,
   open loop (sent on schedule whatever the replies), p50/p99 measured from the
   scheduled send time.

The access log is filled to ``--log-rows`` (default 1,000,000) with one
INSERT ... SELECT generate_series before the server starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

MEMBERS = 2000
DEVICES = 64


def setup_data(devices: int) -> tuple[list[str], list[str]]:
    """Bench branch, members with active memberships and cards, devices with fresh keys."""
    from datetime import date
    from decimal import Decimal

    from access import credentials as creds
    from access.models import AccessDevice, Credential
    from accounts.models import Branch, Member
    from accounts.tenancy import tenant_scope
    from memberships.models import Membership, Plan

    organisation = harness.bench_organisation()
    with tenant_scope(organisation):
        branch, _ = Branch.objects.get_or_create(
            slug="bench-branch",
            defaults={
                "name": "Bench branch",
                "address_line": "1 Bench Road",
                "city": "London",
                "latitude": Decimal("51.5"),
                "longitude": Decimal("-0.1"),
            },
        )
        have = Member.objects.filter(home_branch=branch).count()
        if have < MEMBERS:
            plan, _ = Plan.objects.get_or_create(
                name="Bench unlimited",
                defaults={"kind": Plan.Kind.UNLIMITED, "price": Decimal("30"), "currency": "GBP"},
            )
            members = Member.objects.bulk_create(
                [
                    Member(first_name="Bench", last_name=f"Member {i}", home_branch=branch)
                    for i in range(have, MEMBERS)
                ]
            )
            Membership.objects.bulk_create(
                [
                    Membership(
                        member=m,
                        payer=m,
                        plan=plan,
                        status=Membership.Status.ACTIVE,
                        start_date=date(2024, 1, 1),
                        price=plan.price,
                        currency="GBP",
                    )
                    for m in members
                ]
            )
            Credential.objects.bulk_create(
                [
                    Credential(member=m, kind=Credential.Kind.CARD, number=f"BENCH{m.pk:08d}")
                    for m in members
                ]
            )
        cards = list(
            Credential.objects.filter(member__home_branch=branch, kind="card").values_list(
                "number", flat=True
            )
        )
        keys = []
        existing = list(AccessDevice.objects.filter(branch=branch).order_by("pk"))
        for i in range(devices):
            issued = creds.issue_device_key()
            if i < len(existing):
                device = existing[i]
                device.key_prefix, device.key_hash = issued.prefix, issued.key_hash
                device.status = AccessDevice.Status.ACTIVE
                device.save()
            else:
                AccessDevice.objects.create(
                    branch=branch,
                    name=f"Bench turnstile {i}",
                    key_prefix=issued.prefix,
                    key_hash=issued.key_hash,
                )
            keys.append(issued.key)
    return keys, cards


FILL_SQL = """
INSERT INTO access_accesslog (
    organisation_id, occurred_at, received_at, branch_id, device_id, member_id,
    credential_id, membership_id, direction, result, reason, source, entry_consumed,
    presented, note
)
SELECT m.organisation_id,
       now() - (g * interval '1 second') * 7,
       now() - (g * interval '1 second') * 7,
       m.home_branch_id,
       NULL, m.id, NULL, NULL,
       CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END,
       CASE WHEN g % 25 = 0 THEN 'denied' ELSE 'granted' END,
       CASE WHEN g % 25 = 0 THEN 'past_due' WHEN g % 2 = 0 THEN 'ok' ELSE 'checkout' END,
       'online', false, '', ''
FROM generate_series(1, {rows}) AS g
JOIN (
    SELECT id, organisation_id, home_branch_id,
           row_number() OVER (ORDER BY id) - 1 AS n
    FROM accounts_member WHERE last_name LIKE 'Member %'
) AS m ON m.n = g % {members}
"""


def fill_access_log(database_url: str, target: int) -> int:
    """Top the access log up to ``target`` rows, spread over the past weeks, in SQL."""
    import psycopg

    with psycopg.connect(harness.libpq_url(database_url), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM access_accesslog").fetchone()[0]
        if have < target:
            started = time.perf_counter()
            conn.execute(FILL_SQL.format(rows=target - have, members=MEMBERS))
            print(f"access log: +{target - have} rows in {time.perf_counter() - started:.1f}s")
        # Planner statistics for every table a check-in reads: the rows were just
        # bulk-inserted, and a server without autovacuum would plan with none.
        for table in (
            "access_accesslog",
            "access_accessdevice",
            "access_credential",
            "accounts_member",
            "memberships_membership",
            "memberships_plan",
        ):
            conn.execute(f"ANALYZE {table}")
        return conn.execute("SELECT count(*) FROM access_accesslog").fetchone()[0]


def floor_requests(keys: list[str], count: int) -> list[harness.Request]:
    return [
        harness.Request(
            "POST",
            "/api/v1/bench/device-floor",
            {"Authorization": f"Device {keys[i % len(keys)]}"},
            {},
        )
        for i in range(count)
    ]


def checkin_request(keys: list[str], cards: list[str], i: int, tag: str) -> harness.Request:
    return harness.Request(
        "POST",
        "/api/v1/access/checkin",
        {"Authorization": f"Device {keys[i % len(keys)]}"},
        {"credential": cards[(i * 7919) % len(cards)], "request_id": f"{tag}-{i}"},
    )


def check_replies(result: harness.Result, label: str) -> None:
    bad = {s: n for s, n in result.status_counts().items() if s not in (200, 201)}
    if bad:
        sample = next(b for s, b in zip(result.statuses, result.bodies, strict=True) if s in bad)
        raise SystemExit(f"{label}: unexpected statuses {bad}: {sample[:300]!r}")
    if label.startswith("check-in"):
        decisions = {}
        for body in result.bodies:
            reply = json.loads(body)
            decisions[reply["reason"]] = decisions.get(reply["reason"], 0) + 1
        if set(decisions) != {"ok"}:
            raise SystemExit(f"{label}: not every check-in was granted: {decisions}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--open-only", action="store_true", help="Skip the closed-loop rounds.")
    args = parser.parse_args()

    database_url = harness.bench_database_url()
    harness.prepare_database(database_url)
    harness.django_setup(database_url)
    keys, cards = setup_data(DEVICES)
    rows = fill_access_log(database_url, args.log_rows)
    print(f"access log rows present: {rows:,}; members {len(cards)}; devices {len(keys)}")

    tag = f"r{int(time.time())}"
    floors, checkins = [], []
    costs: dict[str, list[float]] = {"floor": [], "check-in": []}
    with harness.Server(database_url, workers=args.workers) as server:
        meter = harness.CpuMeter(server, database_url)
        # Warm-up: every worker imports, connects and fills its caches.
        harness.run_closed(floor_requests(keys, 300), args.clients)
        harness.run_closed(
            [checkin_request(keys, cards, i, f"{tag}-warm") for i in range(300)], args.clients
        )
        for round_ in range(0 if args.open_only else args.rounds):
            before = meter.read()
            floor = harness.run_closed(floor_requests(keys, args.requests), args.clients)
            costs["floor"].append(_cpu_per_request(meter, before, args.requests))
            check_replies(floor, "floor")
            print(floor.summary(f"device floor (round {round_ + 1})"))
            print(f"  {meter.per_request(before, args.requests)}")
            before = meter.read()
            checkin = harness.run_closed(
                [checkin_request(keys, cards, i, f"{tag}-c{round_}") for i in range(args.requests)],
                args.clients,
            )
            costs["check-in"].append(_cpu_per_request(meter, before, args.requests))
            check_replies(checkin, "check-in")
            print(checkin.summary(f"check-in (round {round_ + 1})"))
            print(f"  {meter.per_request(before, args.requests)}")
            floors.append(floor)
            checkins.append(checkin)
        open_loop = harness.run_open(
            lambda i: checkin_request(keys, cards, i, f"{tag}-open"), args.rate, args.duration
        )
        check_replies(open_loop, "check-in open loop")

    print()
    if floors:
        report_closed(floors, checkins, args)
        report_cost(costs)
    print(open_loop.summary(f"open loop {args.rate:.0f}/s for {args.duration:.0f}s"))
    print(
        f"  p50 {open_loop.percentile(50) * 1000:.1f} ms, "
        f"p99 {open_loop.percentile(99) * 1000:.1f} ms (target p99 < 50 ms), "
        f"achieved {open_loop.rate:.1f}/s"
    )


def report_closed(floors, checkins, args) -> None:
    floor_rate, checkin_rate = harness.median_of(floors), harness.median_of(checkins)
    print(f"max throughput, {args.clients} concurrent devices, {args.workers} workers:")
    print(f"  device floor  {floor_rate:8.1f} req/s (median of {args.rounds})")
    print(f"  check-in      {checkin_rate:8.1f} req/s (median of {args.rounds})")
    print(f"  ratio         {checkin_rate / floor_rate:8.2f}  (target >= 0.70)")


def _cpu_per_request(meter: harness.CpuMeter, before: tuple[float, float], count: int) -> float:
    after = meter.read()
    return (after[0] - before[0] + after[1] - before[1]) / count


def report_cost(costs: dict[str, list[float]]) -> None:
    """CPU per request (server workers + database backends): on a shared machine a
    steadier measure of the same ratio than requests per second."""
    import statistics

    floor, checkin = statistics.median(costs["floor"]), statistics.median(costs["check-in"])
    print("CPU per request (server + database), median of the rounds:")
    print(f"  device floor  {floor * 1000:8.2f} ms")
    print(f"  check-in      {checkin * 1000:8.2f} ms")
    print(f"  floor/check-in {floor / checkin:7.2f}")


if __name__ == "__main__":
    main()
