"""Membership state changes, by topic (one module each; this package re-exports
their public names, so ``from memberships.services import membership_purchase``
keeps working).

Every status transition goes through ``transitions._transition``, which checks it
against ``ALLOWED_TRANSITIONS`` and records who, when and why in
``MembershipStatusChange``.

Lock order (docs/architecture.md): membership → invoice → payment. Billing calls the
paid / failed / voided handlers (in ``purchase`` and ``plan_changes``) with the
membership already locked (through the handlers' ``lock`` hook), so no path takes
them the other way round.
"""

from memberships.services.cancellation import (
    CancellationPreview,
    membership_cancel,
    membership_cancel_withdraw,
    membership_cancellation_preview,
)
from memberships.services.freezes import (
    FreezePreview,
    membership_freeze,
    membership_freeze_preview,
    membership_unfreeze,
    memberships_apply_freezes,
)
from memberships.services.periods import (
    Term,
    bills_periodically,
    period_end_for,
    term_for,
)
from memberships.services.plan_changes import (
    PlanChangePreview,
    membership_change_plan,
    membership_change_plan_preview,
)
from memberships.services.purchase import (
    PriceBreakdown,
    PriceLine,
    membership_activate,
    membership_mark_past_due,
    membership_purchase,
    membership_record_payment,
    membership_suspend,
    plan_price_breakdown,
)
from memberships.services.renewals import (
    _unpaid_invoice_exists,
    membership_comp_period,
    membership_renew,
    memberships_expire_due,
    memberships_renew_due,
    memberships_send_reminders,
    renewals_due,
)
from memberships.services.tickets import (
    day_ticket_plan_create,
    ticket_entries_withdraw,
    ticket_grant,
)
from memberships.services.transitions import (
    ALLOWED_TRANSITIONS,
    MEMBERSHIP_SOURCE,
    PLAN_CHANGE_SOURCE,
    TERMINAL,
    S,
    _lock,
    _transition,
    membership_open_invoices,
)
from memberships.services.usage import (
    membership_consume_credit,
    membership_consume_entry,
    membership_return_credit,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "MEMBERSHIP_SOURCE",
    "PLAN_CHANGE_SOURCE",
    "TERMINAL",
    "CancellationPreview",
    "FreezePreview",
    "PlanChangePreview",
    "PriceBreakdown",
    "PriceLine",
    "S",
    "Term",
    "_lock",
    "_transition",
    "_unpaid_invoice_exists",
    "bills_periodically",
    "day_ticket_plan_create",
    "membership_activate",
    "membership_cancel",
    "membership_cancel_withdraw",
    "membership_cancellation_preview",
    "membership_change_plan",
    "membership_change_plan_preview",
    "membership_comp_period",
    "membership_consume_credit",
    "membership_consume_entry",
    "membership_freeze",
    "membership_freeze_preview",
    "membership_mark_past_due",
    "membership_open_invoices",
    "membership_purchase",
    "membership_record_payment",
    "membership_renew",
    "membership_return_credit",
    "membership_suspend",
    "membership_unfreeze",
    "memberships_apply_freezes",
    "memberships_expire_due",
    "memberships_renew_due",
    "memberships_send_reminders",
    "period_end_for",
    "plan_price_breakdown",
    "renewals_due",
    "term_for",
    "ticket_entries_withdraw",
    "ticket_grant",
]
