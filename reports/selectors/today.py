"""Today's figures for the front page, from the live tables."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.selectors.base import Period, _money, branch_today, totals, visible_branches


def today_figures() -> list[tuple[str, object]]:
    branches = tuple(visible_branches())
    if not branches:
        return []
    today = max(branch_today(b) for b in branches)
    now = totals(Period(today, today, branches))
    return [
        (_("Revenue today (net)"), _money(now["invoiced_net"]) - _money(now["credited_net"])),
        (_("Collected today"), _money(now["collected"]) - _money(now["refunded"])),
        (_("Sign-ups today"), now["signups"]),
        (_("Class places booked today"), now["booked"]),
        (_("Failed payments today"), now["failed_payments"]),
    ]
