"""Flash-sale rush over HTTP through the real server, with both references in the same run.

    .venv/bin/python bench/flash_sale.py --buyers 500 --units 100 --rounds 2 --repeats 3 --workers 4

Three measurements, on one gunicorn (``--workers`` sync processes) and the database:

1. Rush: ``--buyers`` distinct members each POST one purchase at the same moment to
   ``/api/v1/flash-sales/<id>/buy`` for a sale of ``--units`` units. Checks sold /
   oversold against the database (orders, the sale's counter, the stock counters and
   the ledger).
2. Purchases per second: the same buyers, as concurrent clients, each buying
   ``--rounds`` times from a sale big enough for all of them (every request is a real
   purchase: stock hold, sale counter, member allowance, order, line, ledger row).
3. The references, same clients and request count: the framework floor (an
   authenticated DRF POST inserting one row) and the database ceiling (the bare
   ``UPDATE ... SET remaining = remaining - 1 WHERE id = %s AND remaining > 0`` on one
   row through psycopg; clients capped at ``--db-clients`` because the shared
   PostgreSQL allows 100 connections in all).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness


def _buyers(organisation, count: int) -> list[tuple[int, str]]:
    """``count`` members with logins (created once, reused), and an access token each."""
    from accounts.models import Branch
    from accounts.tenancy import tenant_scope

    with tenant_scope(organisation):
        branch = _bench_branch(organisation)
        users = harness.bench_members(
            organisation,
            branch,
            prefix="flash-buyer",
            first_name="Flash",
            last_name="Buyer",
            count=count,
        )
        assert Branch.objects.filter(pk=branch.pk).exists()
    return [(user.pk, harness.access_token_for(user)) for user in users]


def _bench_branch(organisation):
    from decimal import Decimal

    from accounts.models import Branch

    branch, _ = Branch.objects.get_or_create(
        slug="bench-flash",
        defaults={
            "name": "Bench flash branch",
            "address_line": "1 Bench Road",
            "city": "London",
            "latitude": Decimal("51.5"),
            "longitude": Decimal("-0.1"),
            "tax_rate": Decimal("0.2"),
        },
    )
    return branch


def _sale(organisation, *, units: int, per_member_limit: int, label: str):
    """A fresh product with ``units`` on the shelf and a sale of all of them, open now."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from accounts.tenancy import tenant_scope
    from inventory import services
    from inventory.models import Category

    with tenant_scope(organisation):
        branch = _bench_branch(organisation)
        category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
        stamp = f"{int(time.time() * 1000)}"
        product = services.product_create(
            sku=f"BENCH-{label}-{stamp}",
            name=f"Bench {label}",
            category=category,
            price=Decimal("10.00"),
        )
        services.stock_receive(product=product, branch=branch, quantity=units, actor=None)
        now = timezone.now()
        return services.flash_sale_create(
            product=product,
            title=f"Bench {label}",
            sale_price=Decimal("5.00"),
            starts_at=now - timedelta(seconds=1),
            ends_at=now + timedelta(hours=1),
            quantity=units,
            per_member_limit=per_member_limit,
            hold_minutes=30,
            branch=branch,
        )


def _audit(organisation, sale) -> dict:
    """What the database says happened: the only source of truth for sold/oversold."""
    from django.db.models import Sum

    from accounts.tenancy import tenant_scope
    from inventory import selectors
    from inventory.models import FlashSale, Order, OrderLine, Stock, StockMovement

    with tenant_scope(organisation):
        sale = FlashSale.objects.get(pk=sale.pk)
        stock = Stock.objects.get(product_id=sale.product_id, branch_id=sale.branch_id)
        held = (
            OrderLine.objects.filter(
                order__flash_sale=sale, order__status=Order.Status.HELD
            ).aggregate(units=Sum("quantity"))["units"]
            or 0
        )
        ledger = StockMovement.objects.filter(stock=stock).aggregate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
        return {
            "sold": held,
            "oversold": max(0, held - sale.quantity),
            "sale_remaining": sale.remaining,
            "counter_agrees": sale.quantity - sale.remaining == held,
            "stock_reserved": stock.reserved,
            "stock_on_hand": stock.on_hand,
            "ledger_agrees": ledger == {"on_hand": stock.on_hand, "reserved": stock.reserved}
            and stock.reserved == held,
            "ledger_mismatches_anywhere": len(selectors.stock_ledger_mismatches()),
        }


def _buy_requests(sale_id: int, tokens: list[str]) -> list[harness.Request]:
    return [
        harness.Request(
            "POST",
            f"/api/v1/flash-sales/{sale_id}/buy",
            {"Authorization": f"Bearer {t}"},
            {"quantity": 1},
        )
        for t in tokens
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=500, help="distinct members (≤ 500)")
    parser.add_argument("--units", type=int, default=100, help="units in the rush sale")
    parser.add_argument("--rounds", type=int, default=2, help="purchases per buyer, throughput")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--repeats", type=int, default=3, help="alternating throughput runs")
    parser.add_argument("--db-clients", type=int, default=40)
    args = parser.parse_args()

    database_url = harness.bench_database_url()
    harness.prepare_database(database_url)
    harness.django_setup(database_url)
    organisation = harness.bench_organisation()
    buyers = _buyers(organisation, args.buyers)
    tokens = [token for _user, token in buyers]
    floor_token = harness.access_token_for(harness.bench_user())
    total = args.buyers * args.rounds

    rush_sale = _sale(organisation, units=args.units, per_member_limit=1, label="rush")
    throughput_sale = _sale(
        organisation,
        units=total * args.repeats,
        per_member_limit=args.rounds * args.repeats,
        label="throughput",
    )
    warm_sale = _sale(organisation, units=400, per_member_limit=1, label="warm")

    # Fresh planner statistics for the rows just created (as a live database has).
    from django.db import connection as setup_connection

    with setup_connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    setup_connection.close()

    with harness.Server(database_url, workers=args.workers):
        # Warm every worker (imports, connections) on both endpoints first.
        harness.run_closed(_buy_requests(warm_sale.pk, tokens[:400]), 50)
        harness.run_closed(harness.floor_requests([floor_token] * 400), 50)

        rush = harness.run_closed(_buy_requests(rush_sale.pk, tokens), args.buyers)
        rush_audit = _audit(organisation, rush_sale)

        # Purchases and the floor alternate, so a change in the machine's load during
        # the run weighs on both alike; medians are reported.
        purchase_runs, floor_runs = [], []
        for _ in range(args.repeats):
            purchase_runs.append(
                harness.run_closed(
                    _buy_requests(throughput_sale.pk, tokens * args.rounds), args.buyers
                )
            )
            floor_runs.append(
                harness.run_closed(harness.floor_requests([floor_token] * total), args.buyers)
            )
        throughput_audit = _audit(organisation, throughput_sale)

    from django.db import connection

    connection.close()
    from inventory.models import FlashSale

    ceiling_sale = _sale(organisation, units=total, per_member_limit=1, label="ceiling")
    ceiling = harness.db_ceiling(
        database_url,
        f"UPDATE {FlashSale._meta.db_table} SET remaining = remaining - 1 "
        "WHERE id = %s AND remaining > 0",
        lambda _index: (ceiling_sale.pk,),
        min(args.db_clients, args.buyers),
        total,
    )

    created = sum(run.status_counts().get(201, 0) for run in purchase_runs)
    purchase_rates = sorted(run.status_counts().get(201, 0) / run.elapsed for run in purchase_runs)
    purchase_rate = purchase_rates[len(purchase_rates) // 2]
    floor_rate = harness.median_of(floor_runs)
    purchases = purchase_runs[
        [r.status_counts().get(201, 0) / r.elapsed for r in purchase_runs].index(purchase_rate)
    ]
    floor = sorted(floor_runs, key=lambda r: r.rate)[len(floor_runs) // 2]
    print(
        f"flash sale bench: {args.buyers} buyers, {args.workers} gunicorn workers, "
        f"{args.repeats} alternating repeats of {total} purchases / floor requests"
    )
    print(rush.summary(f"rush ({args.units} units)"))
    print(f"  rush audit: {json.dumps(rush_audit)}")
    for index, (p_run, f_run) in enumerate(zip(purchase_runs, floor_runs, strict=True)):
        print(p_run.summary(f"purchases #{index + 1}"))
        print(f_run.summary(f"framework floor #{index + 1}"))
    print(f"  purchases audit: {json.dumps(throughput_audit)}")
    print(ceiling.summary(f"db ceiling ({min(args.db_clients, args.buyers)} conns)"))
    print(
        f"purchases/s (median)  {purchase_rate:8.1f}  p50 {purchases.percentile(50) * 1000:.0f} ms"
        f"  p99 {purchases.percentile(99) * 1000:.0f} ms  ({created} purchases, all 201)"
    )
    print(
        f"framework floor/s     {floor_rate:8.1f}  p50 {floor.percentile(50) * 1000:.0f} ms"
        f"  p99 {floor.percentile(99) * 1000:.0f} ms"
    )
    print(
        f"db ceiling/s          {ceiling.rate:8.1f}  p50 {ceiling.percentile(50) * 1000:.1f} ms"
        f"  p99 {ceiling.percentile(99) * 1000:.1f} ms"
    )
    print(f"ratio to floor        {purchase_rate / floor_rate if floor_rate else 0:8.2f}")
    rates = [p.status_counts().get(201, 0) / p.elapsed for p in purchase_runs]
    print(harness.pair_ratios_line(rates, floor_runs))
    print(f"ratio to db ceiling   {purchase_rate / ceiling.rate if ceiling.rate else 0:8.3f}")
    print(
        f"sold {rush_audit['sold']} of {args.units} units to {args.buyers} buyers, "
        f"oversold {rush_audit['oversold']} (throughput runs: sold {throughput_audit['sold']}, "
        f"oversold {throughput_audit['oversold']})"
    )


if __name__ == "__main__":
    main()
