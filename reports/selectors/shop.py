"""Shop: sales by product and branch, sell-through, stock-outs, flash-sale results."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.tenancy import require_scope
from inventory.models import Product
from reports.selectors.base import (
    Period,
    Report,
    Table,
    _chart,
    _money,
    _rate,
    _raw,
    breakdown,
    totals,
)


def shop_report(period: Period) -> Report:
    report = Report("shop", _("Shop"), period)
    now, before = totals(period), totals(period.previous())
    report.kpis = [
        (_("Units sold"), now["shop_units"], before["shop_units"]),
        (_("Sales (net of tax)"), _money(now["shop_net"]), _money(before["shop_net"])),
    ]
    sales = breakdown(period, ("product_sales",), by_branch=True)
    names = dict(
        Product.objects.filter(pk__in=[int(k) for _kind, k, _b in sales]).values_list("pk", "name")
    )
    branches = {b.pk: b.name for b in period.branches}
    rows = sorted(
        (
            [names.get(int(k), k), branches.get(b, b), v["count"], _money(v["amount"])]
            for (_kind, k, b), v in sales.items()
        ),
        key=lambda r: -r[3],
    )
    report.tables["sales"] = Table(
        _("Sales by product and branch"),
        [_("Product"), _("Branch"), _("Units"), _("Sales (net)")],
        rows,
    )
    report.charts.append(
        (
            _("Top products"),
            "bar",
            _chart([r[0] for r in rows[:10]], [(_("Sales"), [r[3] for r in rows[:10]])]),
        )
    )
    params = {
        "org": require_scope().organisation_id,
        "branches": period.branch_ids,
        "start": period.start,
        "end": period.end,
    }
    sold = {}
    for (_kind, k, b), v in sales.items():
        sold[(int(k), b)] = v["count"]
    stock = _raw(
        """
SELECT s.product_id, s.branch_id, p.name, b.name, s.on_hand, s.reserved
FROM inventory_stock s JOIN inventory_product p ON p.id = s.product_id
JOIN accounts_branch b ON b.id = s.branch_id
WHERE s.organisation_id = %(org)s AND s.branch_id = ANY(%(branches)s) AND p.kind = 'goods'
ORDER BY p.name, b.name
""",
        params,
    )
    report.tables["sell_through"] = Table(
        _("Sell-through and stock-outs"),
        [
            _("Product"),
            _("Branch"),
            _("Sold"),
            _("On hand"),
            _("Sell-through (%)"),
            _("Out of stock"),
        ],
        [
            [
                pname,
                bname,
                sold.get((pid, bid), 0),
                on_hand,
                _rate(sold.get((pid, bid), 0), sold.get((pid, bid), 0) + on_hand),
                _("yes") if on_hand - reserved <= 0 else "",
            ]
            for pid, bid, pname, bname, on_hand, reserved in stock
        ],
    )
    report.kpis.append(
        (_("Products out of stock"), sum(1 for *_x, on, res in stock if on - res <= 0), None)
    )
    flash = _raw(
        """
SELECT f.title, COALESCE(b.name, '*'), f.quantity, f.quantity - f.remaining,
       CASE WHEN f.remaining = 0 THEN
           extract(epoch FROM (max(COALESCE(o.paid_at, o.created_at))
                               FILTER (WHERE o.status IN ('paid', 'collected')) - f.starts_at))::int
       END,
       count(o.id) FILTER (WHERE o.status = 'expired')
FROM inventory_flashsale f
LEFT JOIN accounts_branch b ON b.id = f.branch_id
LEFT JOIN inventory_order o ON o.flash_sale_id = f.id AND o.branch_id = ANY(%(branches)s)
WHERE f.organisation_id = %(org)s AND (f.branch_id IS NULL OR f.branch_id = ANY(%(branches)s))
  AND (f.starts_at AT TIME ZONE COALESCE(b.timezone, 'UTC'))::date BETWEEN %(start)s AND %(end)s
GROUP BY f.id, f.title, b.name, f.quantity, f.remaining, f.starts_at ORDER BY f.starts_at
""",
        params,
    )
    report.tables["flash_sales"] = Table(
        _("Flash sales"),
        [
            _("Sale"),
            _("Branch"),
            _("Units offered"),
            _("Sold"),
            _("Minutes to sell out"),
            _("Holds expired"),
        ],
        [
            [t, b, q, s, None if secs is None else round(secs / 60, 1), expired]
            for t, b, q, s, secs, expired in flash
        ],
    )
    return report
