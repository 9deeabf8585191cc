"""Buying a membership (price, invoice) and what its invoice's outcome does: paid
activates, failed marks past due or suspends, voided cancels. Also the front desk's
"take payment" for a membership's open invoices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from billing import services as billing
from billing.models import Invoice, InvoiceLine, Payment
from gymsite.errors import Conflict, ServiceError
from gymsite.money import quantize, tax_on, with_tax
from memberships.models import (
    Membership,
    MembershipStatusChange,
    Plan,
)
from memberships.selectors import plan_allows_branch
from memberships.services.periods import Term, bills_periodically, term_for
from memberships.services.transitions import (
    MEMBERSHIP_SOURCE,
    S,
    _lock,
    _lock_many,
    _notify,
    _save,
    _today,
    _transition,
    _user,
    membership_open_invoices,
)

# --- buying ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceLine:
    description: str
    amount: Decimal


@dataclass(frozen=True)
class PriceBreakdown:
    plan: Plan
    term: Term
    lines: list[PriceLine]
    subtotal: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    currency: str
    next_charge_date: date | None
    next_charge_amount: Decimal | None
    specs: list = field(default_factory=list, repr=False)


def _check_plan_on_sale(plan: Plan, branch: Branch) -> None:
    if plan.status != Plan.Status.ACTIVE:
        raise ServiceError(_("This plan is no longer on sale."), code="plan_retired", field="plan")
    if not plan_allows_branch(plan=plan, branch_id=branch.pk):
        raise ServiceError(
            _("This plan is not sold at %(branch)s.") % {"branch": branch.name},
            code="plan_not_at_branch",
            field="plan",
        )


def plan_price_breakdown(
    *, plan: Plan, branch: Branch, start_date: date | None = None, membership_id=None
) -> PriceBreakdown:
    """What joining costs today and what it will cost next: shown before paying."""
    start = start_date or _today()
    term = term_for(plan, start)
    first_price = quantize(plan.first_period_price)
    period = (
        _("%(start)s to %(end)s") % {"start": term.start, "end": term.period_end}
        if term.period_end
        else _("from %(start)s") % {"start": term.start}
    )
    lines = [PriceLine(f"{plan.name} ({period})", first_price)]
    specs = [
        billing.InvoiceLineSpec(
            description=lines[0].description,
            quantity=1,
            unit_price=first_price,
            source_type=MEMBERSHIP_SOURCE,
            source_id=str(membership_id or ""),
            period_start=term.start,
            period_end=term.period_end,
        )
    ]
    if plan.signup_fee:
        fee = quantize(plan.signup_fee)
        lines.append(PriceLine(_("Sign-up fee"), fee))
        specs.append(
            billing.InvoiceLineSpec(description=_("Sign-up fee"), quantity=1, unit_price=fee)
        )
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    tax = sum((tax_on(line.amount, branch.tax_rate) for line in lines), Decimal("0.00"))
    next_date = next_amount = None
    if bills_periodically(plan) and plan.auto_renew and term.period_end:
        next_date = term.period_end + timedelta(days=1)
        next_amount = with_tax(quantize(plan.price), branch.tax_rate)
    return PriceBreakdown(
        plan=plan,
        term=term,
        lines=lines,
        subtotal=subtotal,
        tax_rate=branch.tax_rate,
        tax=tax,
        total=subtotal + tax,
        currency=plan.currency,
        next_charge_date=next_date,
        next_charge_amount=next_amount,
        specs=specs,
    )


@transaction.atomic
def membership_purchase(
    *,
    member: Member,
    plan: Plan,
    branch: Branch | None = None,
    start_date: date | None = None,
    actor: User | None = None,
) -> Membership:
    """Buy a plan: a pending membership and its first invoice, in one transaction.

    Safe to retry: while a pending membership of the same plan awaits payment, buying
    again returns it. Paying the invoice activates it (``_on_membership_paid``);
    a free first period with no sign-up fee activates at once.
    """
    # One purchase at a time per member: retries and double clicks queue here.
    member = Member.objects.select_for_update().select_related("home_branch").get(pk=member.pk)
    if member.status != Member.Status.ACTIVE:
        raise ServiceError(_("This member is archived."), code="member_archived", field="member")
    if plan.organisation_id != member.organisation_id:
        raise ServiceError(_("Unknown plan."), code="unknown_plan", field="plan")
    branch = branch or member.home_branch
    _check_plan_on_sale(plan, branch)
    today = _today()
    start = start_date or today
    if start < today:
        raise ServiceError(
            _("A membership cannot start in the past."), code="start_in_past", field="start_date"
        )
    if start > today + timedelta(days=90):
        raise ServiceError(
            _("A membership can start at most 90 days ahead."),
            code="start_too_late",
            field="start_date",
        )
    if plan.kind == Plan.Kind.ENTRY_TICKET and plan.valid_until and plan.valid_until < start:
        raise ServiceError(_("This ticket is no longer valid."), code="plan_expired", field="plan")
    existing = (
        Membership.objects.filter(member=member, plan=plan, status=S.PENDING)
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        return existing
    if (
        bills_periodically(plan)
        and Membership.objects.filter(
            member=member, plan=plan, status__in=[S.ACTIVE, S.FROZEN, S.PAST_DUE, S.SUSPENDED]
        )
        .filter(Q(cancels_on__isnull=True) | Q(cancels_on__gte=start))
        .exists()
    ):
        raise ServiceError(_("You already have this plan."), code="already_on_plan", field="plan")
    term = term_for(plan, start)
    membership = Membership.objects.create(
        organisation_id=member.organisation_id,
        member=member,
        payer=member.billing_member,
        plan=plan,
        branch=branch,
        status=S.PENDING,
        start_date=term.start,
        end_date=term.end_date,
        current_period_start=term.start,
        current_period_end=term.period_end,
        auto_renew=bills_periodically(plan) and plan.auto_renew,
        price=plan.price,
        currency=plan.currency,
        credits_remaining=term.credits,
        entries_remaining=term.entries,
    )
    MembershipStatusChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_status="",
        to_status=S.PENDING,
        actor=_user(actor),
        reason=_("Bought"),
    )
    breakdown = plan_price_breakdown(
        plan=plan, branch=branch, start_date=start, membership_id=membership.pk
    )
    billing.invoice_issue(
        payer=membership.payer,
        branch=branch,
        lines=breakdown.specs,
        due_date=today,
        actor=actor,
        billing_key=f"membership:{membership.pk}:first",
    )
    membership.refresh_from_db()
    if actor is not None and _user(actor) and membership.member.user_id != actor.pk:
        audit_record(actor=actor, action="membership.sell", target=membership)
    return membership


# --- payment outcomes (registered with billing) -------------------------------------


@billing.invoice_paid_handler(MEMBERSHIP_SOURCE, lock=_lock_many)
def _on_membership_paid(*, invoice: Invoice, line: InvoiceLine) -> None:
    membership = _lock(int(line.source_id))
    reason = _("Invoice %(number)s paid") % {"number": invoice.display_number}
    if membership.status == S.PENDING:
        membership_activate(membership=membership, reason=reason)
        return
    if (
        line.period_start
        and membership.current_period_end
        and line.period_start == membership.current_period_end + timedelta(days=1)
    ):
        membership.current_period_start = line.period_start
        membership.current_period_end = line.period_end
        _save(membership, "current_period_start", "current_period_end")
    if (
        membership.status in (S.PAST_DUE, S.SUSPENDED)
        and not membership_open_invoices(membership).exclude(pk=invoice.pk).exists()
    ):
        _transition(membership, S.ACTIVE, actor=None, reason=reason)


def membership_activate(*, membership: Membership, reason: str, actor=None) -> Membership:
    """pending → active, on the first payment. The term starts today if the chosen
    start date has passed meanwhile."""
    membership = _lock(membership)
    start = max(membership.start_date, _today())
    term = term_for(membership.plan, start)
    membership.start_date = term.start
    membership.current_period_start = term.start
    membership.current_period_end = term.period_end
    membership.end_date = term.end_date
    _save(membership, "start_date", "current_period_start", "current_period_end", "end_date")
    _transition(membership, S.ACTIVE, actor=actor, reason=reason)
    _notify(
        membership, "activated", "activated", start_date=term.start, end_date=term.end_date or ""
    )
    return membership


@billing.invoice_payment_failed_handler(MEMBERSHIP_SOURCE, lock=_lock_many)
def _on_membership_payment_failed(*, invoice: Invoice, line: InvoiceLine, final: bool) -> None:
    membership = _lock(int(line.source_id))
    reason = _("Payment for %(number)s failed") % {"number": invoice.display_number}
    if membership.status == S.ACTIVE:
        membership_mark_past_due(membership=membership, reason=reason)
    if final and membership.status == S.PAST_DUE:
        membership_suspend(membership=membership, reason=reason + _(" (last attempt)"))


def membership_mark_past_due(*, membership: Membership, reason: str, actor=None) -> Membership:
    """active → past_due: a renewal payment failed. Booking new classes is refused."""
    membership = _lock(membership)
    _transition(membership, S.PAST_DUE, actor=actor, reason=reason)
    return membership


def membership_suspend(*, membership: Membership, reason: str, actor=None) -> Membership:
    """past_due → suspended: the last dunning attempt failed. Access is refused."""
    membership = _lock(membership)
    _transition(membership, S.SUSPENDED, actor=actor, reason=reason)
    _notify(membership, "suspended", f"suspended-{membership.current_period_end}")
    return membership


@billing.invoice_voided_handler(MEMBERSHIP_SOURCE, lock=_lock_many)
def _on_membership_invoice_voided(*, invoice: Invoice, line: InvoiceLine) -> None:
    membership = _lock(int(line.source_id))
    if membership.status == S.PENDING:
        _transition(
            membership,
            S.CANCELLED,
            actor=None,
            reason=_("Invoice %(number)s voided") % {"number": invoice.display_number},
        )


@transaction.atomic
def membership_record_payment(
    *, membership: Membership, actor: User, provider: str = "manual", reference: str = ""
) -> list[Payment]:
    """Front desk: take payment in full for every open invoice of a membership."""
    invoices = list(membership_open_invoices(membership).order_by("pk"))
    if not invoices:
        raise Conflict(_("Nothing is owed on this membership."), code="nothing_due")
    return [
        billing.payment_record(
            invoice=invoice,
            amount=invoice.amount_due,
            provider=provider,
            reference=f"{reference}-{invoice.pk}" if reference else "",
            actor=actor,
        )
        for invoice in invoices
    ]
