"""Upgrades and downgrades between plans, prorated by days: the preview, the
change, and what the upgrade invoice's outcome does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from billing import services as billing
from billing.models import Invoice, InvoiceLine, Payment
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize, with_tax
from memberships.models import (
    Membership,
    Plan,
    PlanChange,
)
from memberships.services.periods import bills_periodically, period_end_for
from memberships.services.purchase import _check_plan_on_sale
from memberships.services.transitions import (
    MEMBERSHIP_SOURCE,
    PLAN_CHANGE_SOURCE,
    TERMINAL,
    S,
    _billing_branch,
    _lock,
    _lock_many,
    _notify,
    _save,
    _today,
    _user,
    membership_open_invoices,
)

# --- plan changes ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChangePreview:
    membership: Membership
    to_plan: Plan
    effective_date: date
    new_period_end: date
    remaining_days: int
    period_days: int
    credit: Decimal
    charge: Decimal
    net: Decimal
    currency: str

    @property
    def is_upgrade(self) -> bool:
        return self.net > 0


def membership_change_plan_preview(
    *, membership: Membership, to_plan: Plan, today: date | None = None
) -> PlanChangePreview:
    """Prorate a plan change by days.

    Unused days of the current period are credited at the price paid; the new plan
    is charged for the same days (same billing interval: the period end stays), or
    a full new period starting today (different interval). Amounts are net of tax.
    """
    today = today or _today()
    if membership.status != S.ACTIVE:
        raise Conflict(_("Only an active membership can change plan."), code="not_active")
    if to_plan.pk == membership.plan_id:
        raise ServiceError(_("This is already your plan."), code="same_plan", field="plan")
    if to_plan.organisation_id != membership.organisation_id:
        raise ServiceError(_("Unknown plan."), code="unknown_plan", field="plan")
    if not bills_periodically(membership.plan) or not bills_periodically(to_plan):
        raise ServiceError(
            _("Only recurring memberships can change plan: buy the new one instead."),
            code="not_recurring",
            field="plan",
        )
    if to_plan.currency != membership.currency:
        raise ServiceError(
            _("That plan is sold in another currency."), code="currency", field="plan"
        )
    if membership.cancels_on:
        raise Conflict(
            _("This membership is set to end: withdraw the cancellation first."),
            code="cancelling",
        )
    _check_plan_on_sale(to_plan, _billing_branch(membership))
    start, end = membership.current_period_start, membership.current_period_end
    period_days = (end - start).days + 1
    remaining = max((end - today).days + 1, 0)
    credit = quantize(membership.price * remaining / period_days)
    same_interval = (to_plan.billing_interval, to_plan.interval_count) == (
        membership.plan.billing_interval,
        membership.plan.interval_count,
    )
    if same_interval:
        new_end = end
        charge = quantize(to_plan.price * remaining / period_days)
    else:
        new_end = period_end_for(to_plan, today)
        charge = quantize(to_plan.price)
    return PlanChangePreview(
        membership=membership,
        to_plan=to_plan,
        effective_date=today,
        new_period_end=new_end,
        remaining_days=remaining,
        period_days=period_days,
        credit=credit,
        charge=charge,
        net=charge - credit,
        currency=membership.currency,
    )


@transaction.atomic
def membership_change_plan(
    *,
    membership: Membership,
    to_plan: Plan,
    actor: User | None = None,
    today: date | None = None,
) -> PlanChange:
    """Upgrade or downgrade, prorated (see the preview).

    An upgrade is invoiced (the difference) and applies when that invoice is paid.
    A downgrade applies now and the difference is refunded to the payments of the
    current period (or credited on its invoice if that is still unpaid).
    """
    membership = _lock(membership)
    if membership.changes.filter(status=PlanChange.Status.AWAITING_PAYMENT).exists():
        raise Conflict(_("A plan change is already awaiting payment."), code="change_pending")
    if membership_open_invoices(membership).exists():
        raise Conflict(_("Pay the open invoice first."), code="unpaid_invoice")
    preview = membership_change_plan_preview(membership=membership, to_plan=to_plan, today=today)
    change = PlanChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_plan=membership.plan,
        to_plan=to_plan,
        effective_date=preview.effective_date,
        new_period_end=preview.new_period_end,
        credit=preview.credit,
        charge=preview.charge,
        created_by=_user(actor),
    )
    branch = _billing_branch(membership)
    if preview.net > 0:
        billing.invoice_issue(
            payer=membership.payer,
            branch=branch,
            lines=[
                billing.InvoiceLineSpec(
                    description=_("%(plan)s, %(start)s – %(end)s (prorated)")
                    % {
                        "plan": to_plan.name,
                        "start": preview.effective_date,
                        "end": preview.new_period_end,
                    },
                    quantity=1,
                    unit_price=preview.charge,
                    source_type=PLAN_CHANGE_SOURCE,
                    source_id=str(change.pk),
                ),
                billing.InvoiceLineSpec(
                    description=_("Unused time on %(plan)s") % {"plan": membership.plan.name},
                    quantity=1,
                    unit_price=-preview.credit,
                ),
            ],
            actor=actor,
            billing_key=f"planchange:{change.pk}",
        )
        change.refresh_from_db()
        return change
    _plan_change_apply(membership, change, actor=actor)
    _refund_difference(membership, -preview.net, branch=branch, actor=actor, change=change)
    return change


def _plan_change_apply(membership: Membership, change: PlanChange, *, actor) -> None:
    membership.plan = change.to_plan
    membership.price = change.to_plan.price
    if change.new_period_end != membership.current_period_end:
        membership.current_period_start = change.effective_date
    membership.current_period_end = change.new_period_end
    membership.auto_renew = change.to_plan.auto_renew
    _save(membership, "plan", "price", "current_period_start", "current_period_end", "auto_renew")
    change.status = PlanChange.Status.APPLIED
    change.applied_at = timezone.now()
    change.save(update_fields=["status", "applied_at"])
    _notify(membership, "plan_changed", f"change-{change.pk}", to_plan=change.to_plan.name)
    if actor is not None:
        audit_record(
            actor=actor,
            action="membership.change_plan",
            target=membership,
            data={"from": change.from_plan_id, "to": change.to_plan_id},
        )


def _refund_difference(membership, amount: Decimal, *, branch, actor, change) -> None:
    """Give back a downgrade's net credit (gross of tax) on the period's payments."""
    if amount <= 0:
        return
    gross = with_tax(amount, branch.tax_rate)
    reason = _("Plan change to %(plan)s") % {"plan": change.to_plan.name}
    payments = (
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED,
            invoice__lines__source_type=MEMBERSHIP_SOURCE,
            invoice__lines__source_id=str(membership.pk),
        )
        .distinct()
        .order_by("-created_at", "-pk")
    )
    for payment in payments:
        if gross <= 0:
            break
        refundable = payment.refundable
        if refundable <= 0:
            continue
        part = min(refundable, gross)
        billing.refund_create(payment=payment, amount=part, reason=reason, actor=actor)
        gross -= part


def _lock_changes(ids: list[str]) -> None:
    membership_ids = PlanChange.objects.filter(pk__in=[int(i) for i in ids]).values_list(
        "membership_id", flat=True
    )
    _lock_many([str(pk) for pk in membership_ids])


@billing.invoice_paid_handler(PLAN_CHANGE_SOURCE, lock=_lock_changes)
def _on_plan_change_paid(*, invoice: Invoice, line: InvoiceLine) -> None:
    change = PlanChange.objects.select_related("to_plan", "from_plan").get(pk=int(line.source_id))
    if change.status != PlanChange.Status.AWAITING_PAYMENT:
        return
    membership = _lock(change.membership_id)
    if membership.status in TERMINAL:
        change.status = PlanChange.Status.CANCELLED
        change.save(update_fields=["status"])
        return
    _plan_change_apply(membership, change, actor=None)


@billing.invoice_voided_handler(PLAN_CHANGE_SOURCE, lock=_lock_changes)
def _on_plan_change_voided(*, invoice: Invoice, line: InvoiceLine) -> None:
    PlanChange.objects.filter(
        pk=int(line.source_id), status=PlanChange.Status.AWAITING_PAYMENT
    ).update(status=PlanChange.Status.CANCELLED)
