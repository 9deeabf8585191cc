"""Membership state changes. Every status transition goes through ``_transition``,
which checks it against ``ALLOWED_TRANSITIONS`` and records who, when and why in
``MembershipStatusChange``.

Lock order (docs/architecture.md): membership → invoice → payment. Billing calls the
paid / failed / voided handlers below with the membership already locked (through
the handlers' ``lock`` hook), so no path takes them the other way round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, User
from accounts.services import audit_record
from billing import services as billing
from billing.models import Invoice, InvoiceLine, Payment
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.money import quantize
from gymsite.outbox import email_enqueue
from memberships.models import (
    Membership,
    MembershipFreeze,
    MembershipStatusChange,
    Plan,
    PlanChange,
)
from memberships.selectors import plan_allows_branch

logger = logging.getLogger(__name__)

S = Membership.Status
MEMBERSHIP_SOURCE = "memberships.membership"
PLAN_CHANGE_SOURCE = "memberships.planchange"

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.ACTIVE: {S.FROZEN, S.PAST_DUE, S.CANCELLED, S.EXPIRED},
    S.FROZEN: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.PAST_DUE: {S.ACTIVE, S.SUSPENDED, S.CANCELLED, S.EXPIRED},
    S.SUSPENDED: {S.ACTIVE, S.CANCELLED, S.EXPIRED},
    S.CANCELLED: set(),
    S.EXPIRED: set(),
}
TERMINAL = {S.CANCELLED, S.EXPIRED}


def _today() -> date:
    return timezone.localdate()


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _transition(
    membership: Membership, to_status: str, *, actor: User | None, reason: str
) -> MembershipStatusChange:
    """Move a (locked) membership to a new status, or refuse; record the change."""
    from_status = membership.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise Conflict(
            _("A membership that is %(from)s cannot become %(to)s.")
            % {
                "from": Membership.Status(from_status).label.lower(),
                "to": Membership.Status(to_status).label.lower(),
            },
            code="invalid_transition",
        )
    membership.status = to_status
    Membership.objects.filter(pk=membership.pk).update(status=to_status, updated_at=timezone.now())
    return MembershipStatusChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_status=from_status,
        to_status=to_status,
        actor=_user(actor),
        reason=reason[:2000],
    )


def _lock(membership: Membership | int) -> Membership:
    pk = membership if isinstance(membership, int) else membership.pk
    try:
        return (
            Membership.objects.select_for_update(of=("self",))
            .select_related("plan", "member", "payer")
            .get(pk=pk)
        )
    except Membership.DoesNotExist:
        raise ServiceError(
            _("Unknown membership."), code="unknown_membership", field="membership"
        ) from None


def _lock_many(ids: list[str]) -> None:
    list(
        Membership.objects.filter(pk__in=[int(i) for i in ids])
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )


def _save(membership: Membership, *fields: str) -> None:
    membership.save(update_fields=[*fields, "updated_at"])


# --- periods -----------------------------------------------------------------------


def bills_periodically(plan: Plan) -> bool:
    return bool(plan.billing_interval) and plan.kind in (Plan.Kind.RECURRING, Plan.Kind.UNLIMITED)


def period_end_for(plan: Plan, start: date) -> date:
    """Last day (inclusive) of a billing period of ``plan`` starting on ``start``."""
    count = max(plan.interval_count, 1)
    if plan.billing_interval == Plan.Interval.WEEK:
        return start + timedelta(weeks=count) - timedelta(days=1)
    if plan.billing_interval == Plan.Interval.YEAR:
        return start + relativedelta(years=count) - timedelta(days=1)
    return start + relativedelta(months=count) - timedelta(days=1)


@dataclass(frozen=True)
class Term:
    start: date
    period_end: date | None
    end_date: date | None
    credits: int | None
    entries: int | None


def term_for(plan: Plan, start: date) -> Term:
    """What a membership of ``plan`` starting on ``start`` covers."""
    if plan.kind == Plan.Kind.ENTRY_TICKET and plan.valid_from and plan.valid_from > start:
        start = plan.valid_from
    if bills_periodically(plan):
        return Term(start, period_end_for(plan, start), None, plan.credits, plan.entries)
    end = None
    if plan.kind == Plan.Kind.ENTRY_TICKET:
        end = plan.valid_until
        if plan.credit_validity_days:
            by_days = start + timedelta(days=plan.credit_validity_days - 1)
            end = min(end, by_days) if end else by_days
    elif plan.kind == Plan.Kind.CLASS_PACK and plan.credit_validity_days:
        end = start + timedelta(days=plan.credit_validity_days - 1)
    elif plan.duration_days:
        end = start + timedelta(days=plan.duration_days - 1)
    return Term(start, end, end, plan.credits, plan.entries)


def _notify(membership: Membership, template: str, dedupe: str, **context) -> None:
    email = membership.payer.email or membership.member.email
    if not email:
        return
    email_enqueue(
        to=email,
        template=f"memberships/{template}",
        context={
            "member_name": membership.member.first_name,
            "plan": membership.plan.name,
            "membership_path": f"/memberships/{membership.pk}/",
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in context.items()},
        },
        organisation_id=membership.organisation_id,
        dedupe_key=f"membership-{membership.pk}-{dedupe}",
    )


def _billing_branch(membership: Membership) -> Branch:
    if membership.branch_id:
        return Branch.objects.get(pk=membership.branch_id)
    return membership.member.home_branch


def membership_open_invoices(membership: Membership):
    return Invoice.objects.filter(
        status=Invoice.Status.OPEN,
        lines__source_type=MEMBERSHIP_SOURCE,
        lines__source_id=str(membership.pk),
    ).distinct()


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
    tax = sum((quantize(line.amount * branch.tax_rate) for line in lines), Decimal("0.00"))
    next_date = next_amount = None
    if bills_periodically(plan) and plan.auto_renew and term.period_end:
        next_date = term.period_end + timedelta(days=1)
        next_amount = quantize(plan.price) + quantize(plan.price * branch.tax_rate)
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


# --- renewals ----------------------------------------------------------------------


def _unpaid_invoice_exists():
    return Exists(
        InvoiceLine.objects.filter(
            source_type=MEMBERSHIP_SOURCE,
            source_id=Cast(OuterRef("pk"), output_field=CharField()),
            invoice__status=Invoice.Status.OPEN,
        )
    )


def renewals_due(*, today: date):
    """Memberships whose next period has started and is not billed yet."""
    return (
        Membership.objects.filter(
            status=S.ACTIVE,
            auto_renew=True,
            current_period_end__lt=today,
        )
        .filter(Q(cancels_on__isnull=True) | Q(cancels_on__gt=F("current_period_end")))
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=F("current_period_end")))
        .exclude(_unpaid_invoice_exists())
    )


@transaction.atomic
def membership_renew(
    *, membership: Membership | int, today: date | None = None, prepare_charge: bool = False
) -> Invoice | None:
    """Bill a membership's next period, exactly once.

    The membership row is locked (skipping it if another worker holds it) and the due
    conditions re-checked under the lock; the invoice's ``billing_key`` names the
    period, so even a run that got past both would get the same invoice back.
    With ``prepare_charge`` the charge attempt is recorded in the same transaction
    (``invoice.prepared_payment``), to be sent with ``billing.invoice_charge`` after
    commit. Returns the invoice, or None if nothing was due.
    """
    today = today or _today()
    pk = membership if isinstance(membership, int) else membership.pk
    locked = (
        renewals_due(today=today)
        .filter(pk=pk)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "plan", "member__home_branch__organisation", "branch__organisation", "payer"
        )
        .first()
    )
    if locked is None:
        return None
    membership = locked
    # The query above may have read invoices from a snapshot older than the lock: now
    # that this worker holds the row (anyone billing it must too), look again.
    if membership_open_invoices(membership).exists():
        return None
    start = membership.current_period_end + timedelta(days=1)
    end = period_end_for(membership.plan, start)
    branch = membership.branch or membership.member.home_branch
    invoice = billing.invoice_issue(
        payer=membership.payer,
        branch=branch,
        lines=[
            billing.InvoiceLineSpec(
                description=f"{membership.plan.name} ({start} – {end})",
                quantity=1,
                unit_price=membership.price,
                source_type=MEMBERSHIP_SOURCE,
                source_id=str(membership.pk),
                period_start=start,
                period_end=end,
            )
        ],
        due_date=start,
        billing_key=f"membership:{membership.pk}:{start.isoformat()}",
        include_account_charges=True,
        notify=False,
    )
    invoice.prepared_payment = None
    if prepare_charge and invoice.status == Invoice.Status.OPEN:
        invoice.prepared_payment = billing.invoice_collection_prepare(invoice=invoice)
    return invoice


def memberships_renew_due(*, today: date | None = None, limit: int | None = None) -> dict:
    """The daily renewal job for the organisation in scope: bill, then charge, each
    due membership. Charging happens after the invoice's transaction commits."""
    today = today or _today()
    ids = list(renewals_due(today=today).order_by("pk").values_list("pk", flat=True)[:limit])
    billed = charged = 0
    for pk in ids:
        # One commit bills the period and records the charge attempt; the provider is
        # called after it, outside any transaction.
        invoice = membership_renew(membership=pk, today=today, prepare_charge=True)
        if invoice is None:
            continue
        billed += 1
        if invoice.prepared_payment is not None:
            payment = billing.invoice_charge(payment=invoice.prepared_payment, invoice=invoice)
            charged += payment.status == Payment.Status.SUCCEEDED
    return {"due": len(ids), "billed": billed, "charged": charged}


# --- freezes -----------------------------------------------------------------------


def _freeze_window_usage(membership: Membership, start: date) -> tuple[int, int]:
    """(freezes, frozen days) in the year before ``start``."""
    freezes = membership.freezes.exclude(status=MembershipFreeze.Status.CANCELLED).filter(
        start_date__gt=start - timedelta(days=365)
    )
    return len(freezes), sum(f.days for f in freezes)


@transaction.atomic
def membership_freeze(
    *,
    membership: Membership,
    start_date: date,
    end_date: date,
    reason: str = "",
    actor: User | None = None,
    today: date | None = None,
) -> MembershipFreeze:
    """Hold a membership from ``start_date`` to ``end_date`` (inclusive).

    Limits from the plan: shortest freeze, frozen days and number of freezes in any
    365 days. A freeze starting today starts at once; a later one is started by the
    daily job.
    """
    today = today or _today()
    membership = _lock(membership)
    plan = membership.plan
    if membership.status != S.ACTIVE:
        raise Conflict(_("Only an active membership can be frozen."), code="not_active")
    if not start_date or not end_date:
        raise ServiceError(_("Give both dates."), code="required", field="start_date")
    if start_date < today:
        raise ServiceError(
            _("A freeze cannot start in the past."), code="start_in_past", field="start_date"
        )
    if end_date < start_date:
        raise ServiceError(
            _("The freeze must end on or after its first day."),
            code="end_before_start",
            field="end_date",
        )
    days = (end_date - start_date).days + 1
    if plan.max_freezes_per_year == 0 or plan.max_freeze_days_per_year == 0:
        raise ServiceError(_("This plan cannot be frozen."), code="freeze_not_allowed")
    if days < plan.min_freeze_days:
        raise ServiceError(
            _("A freeze lasts at least %(days)s days.") % {"days": plan.min_freeze_days},
            code="freeze_too_short",
            field="end_date",
        )
    count, used = _freeze_window_usage(membership, start_date)
    if count >= plan.max_freezes_per_year:
        raise ServiceError(
            _("This plan allows %(count)s freezes a year, all used.")
            % {"count": plan.max_freezes_per_year},
            code="freeze_limit",
            field="start_date",
        )
    if used + days > plan.max_freeze_days_per_year:
        raise ServiceError(
            _("This plan allows %(max)s frozen days a year; %(left)s are left.")
            % {"max": plan.max_freeze_days_per_year, "left": plan.max_freeze_days_per_year - used},
            code="freeze_too_long",
            field="end_date",
        )
    if membership.freezes.filter(
        status__in=[MembershipFreeze.Status.SCHEDULED, MembershipFreeze.Status.ACTIVE],
        start_date__lte=end_date,
        end_date__gte=start_date,
    ).exists():
        raise ServiceError(
            _("This overlaps another freeze."), code="freeze_overlap", field="start_date"
        )
    last_day = membership.cancels_on or membership.end_date
    if last_day and start_date > last_day:
        raise ServiceError(
            _("The membership ends on %(date)s, before this freeze.") % {"date": last_day},
            code="after_end",
            field="start_date",
        )
    freeze = MembershipFreeze.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        start_date=start_date,
        end_date=end_date,
        reason=reason.strip()[:255],
        created_by=_user(actor),
    )
    if start_date <= today:
        _freeze_start(membership, freeze, actor=actor)
    _notify(membership, "frozen", f"freeze-{freeze.pk}", start_date=start_date, end_date=end_date)
    if actor is not None and membership.member.user_id != getattr(actor, "pk", None):
        audit_record(actor=actor, action="membership.freeze", target=membership)
    return freeze


def _shift(membership: Membership, days: int) -> None:
    """Move the paid period, the end date and a scheduled cancellation by ``days``."""
    delta = timedelta(days=days)
    if membership.current_period_end:
        membership.current_period_end += delta
    if membership.end_date:
        membership.end_date += delta
    if membership.cancels_on:
        membership.cancels_on += delta
    _save(membership, "current_period_end", "end_date", "cancels_on")


def _freeze_start(membership: Membership, freeze: MembershipFreeze, *, actor) -> None:
    """active → frozen; the billing period is extended by the freeze's length."""
    _transition(
        membership,
        S.FROZEN,
        actor=actor,
        reason=freeze.reason
        or _("Frozen %(start)s – %(end)s") % {"start": freeze.start_date, "end": freeze.end_date},
    )
    freeze.status = MembershipFreeze.Status.ACTIVE
    freeze.save(update_fields=["status"])
    _shift(membership, freeze.days)


@transaction.atomic
def membership_unfreeze(
    *, membership: Membership, actor: User | None = None, today: date | None = None
) -> Membership:
    """frozen → active today (ending the freeze early gives back the unused days), or
    cancel a freeze that has not started yet."""
    today = today or _today()
    membership = _lock(membership)
    running = membership.freezes.filter(status=MembershipFreeze.Status.ACTIVE).first()
    if membership.status == S.FROZEN and running is not None:
        last_frozen = today - timedelta(days=1)
        unused = (running.end_date - last_frozen).days if last_frozen < running.end_date else 0
        if last_frozen < running.start_date:
            running.status = MembershipFreeze.Status.CANCELLED
            unused = running.days
        else:
            running.status = MembershipFreeze.Status.ENDED
            running.ended_on = min(last_frozen, running.end_date)
        running.save(update_fields=["status", "ended_on"])
        if unused:
            _shift(membership, -unused)
        _transition(membership, S.ACTIVE, actor=actor, reason=_("Unfrozen"))
        return membership
    scheduled = membership.freezes.filter(status=MembershipFreeze.Status.SCHEDULED).first()
    if scheduled is None:
        raise Conflict(_("This membership is not frozen."), code="not_frozen")
    scheduled.status = MembershipFreeze.Status.CANCELLED
    scheduled.save(update_fields=["status"])
    return membership


def memberships_apply_freezes(*, today: date | None = None) -> dict:
    """Daily: start freezes whose first day has come, end those whose last day passed."""
    today = today or _today()
    started = ended = 0
    for freeze_id, membership_id in MembershipFreeze.objects.filter(
        status=MembershipFreeze.Status.SCHEDULED, start_date__lte=today
    ).values_list("pk", "membership_id"):
        with transaction.atomic():
            membership = _lock(membership_id)
            freeze = MembershipFreeze.objects.select_for_update().get(pk=freeze_id)
            if freeze.status != MembershipFreeze.Status.SCHEDULED:
                continue
            if membership.status != S.ACTIVE:
                freeze.status = MembershipFreeze.Status.CANCELLED
                freeze.save(update_fields=["status"])
                continue
            _freeze_start(membership, freeze, actor=freeze.created_by)
            started += 1
    for freeze_id, membership_id in MembershipFreeze.objects.filter(
        status=MembershipFreeze.Status.ACTIVE, end_date__lt=today
    ).values_list("pk", "membership_id"):
        with transaction.atomic():
            membership = _lock(membership_id)
            freeze = MembershipFreeze.objects.select_for_update().get(pk=freeze_id)
            if freeze.status != MembershipFreeze.Status.ACTIVE:
                continue
            freeze.status = MembershipFreeze.Status.ENDED
            freeze.ended_on = freeze.end_date
            freeze.save(update_fields=["status", "ended_on"])
            if membership.status == S.FROZEN:
                _transition(membership, S.ACTIVE, actor=None, reason=_("Freeze ended"))
            ended += 1
    return {"started": started, "ended": ended}


# --- cancellation ------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationPreview:
    membership: Membership
    immediate: bool
    last_day: date
    notice_ends: date | None
    minimum_term_ends: date | None
    remaining_payments: int
    remaining_amount: Decimal
    currency: str
    explanation: list[str]


def membership_cancellation_preview(
    *, membership: Membership, immediately: bool = False, today: date | None = None
) -> CancellationPreview:
    """Exactly what cancelling would do, shown before the member confirms.

    A recurring membership runs to the end of the billing period in which both the
    notice period and the minimum term have ended; the periods until then are still
    billed. A pending membership (never paid) ends at once.
    """
    today = today or _today()
    plan = membership.plan
    if membership.status in TERMINAL:
        raise Conflict(_("This membership has already ended."), code="already_ended")
    explanation: list[str] = []
    currency = membership.currency
    if immediately or membership.status == S.PENDING or not bills_periodically(plan):
        last_day = today
        if membership.status == S.PENDING:
            explanation.append(
                _("It has not been paid yet: it ends now and its invoice is voided.")
            )
        else:
            explanation.append(_("It ends today, with no refund for the time left."))
        return CancellationPreview(
            membership, True, last_day, None, None, 0, Decimal("0.00"), currency, explanation
        )
    notice_ends = today + timedelta(days=plan.notice_period_days)
    minimum_ends = (
        membership.start_date + relativedelta(months=plan.minimum_term_months) - timedelta(days=1)
        if plan.minimum_term_months
        else None
    )
    earliest = max(d for d in (notice_ends, minimum_ends, today) if d)
    last_day = membership.current_period_end or today
    payments = 0
    while last_day < earliest:
        last_day = period_end_for(plan, last_day + timedelta(days=1))
        payments += 1
    amount = quantize(membership.price * payments)
    if plan.notice_period_days:
        explanation.append(
            _("The plan has a %(days)s-day notice period, which ends on %(date)s.")
            % {"days": plan.notice_period_days, "date": notice_ends}
        )
    if minimum_ends and minimum_ends >= today:
        explanation.append(
            _("The minimum term of %(months)s months runs until %(date)s.")
            % {"months": plan.minimum_term_months, "date": minimum_ends}
        )
    explanation.append(
        _("Your membership stays usable until %(date)s and then ends.") % {"date": last_day}
    )
    if payments:
        explanation.append(
            _("%(count)s more payment(s) of %(price)s %(currency)s (plus tax) will be taken.")
            % {"count": payments, "price": quantize(membership.price), "currency": currency}
        )
    else:
        explanation.append(_("No further payments will be taken."))
    return CancellationPreview(
        membership,
        False,
        last_day,
        notice_ends,
        minimum_ends,
        payments,
        amount,
        currency,
        explanation,
    )


@transaction.atomic
def membership_cancel(
    *,
    membership: Membership,
    reason: str,
    actor: User | None = None,
    immediately: bool = False,
    staff: bool = False,
    today: date | None = None,
) -> Membership:
    """Cancel as previewed by ``membership_cancellation_preview``.

    Members cancel at the earliest date their plan allows (pending memberships at
    once). Staff may cancel immediately. The status becomes ``cancelled`` on the
    last day's next morning (the daily job), or now when immediate.
    """
    today = today or _today()
    if not reason or not reason.strip():
        raise ServiceError(_("Tell us why you are leaving."), code="required", field="reason")
    if immediately and not staff:
        raise NotAllowed(_("Only staff can end a membership immediately."), code="not_allowed")
    membership = _lock(membership)
    if membership.cancels_on and not immediately:
        raise Conflict(
            _("This membership is already set to end on %(date)s.")
            % {"date": membership.cancels_on},
            code="already_cancelling",
        )
    preview = membership_cancellation_preview(
        membership=membership, immediately=immediately, today=today
    )
    membership.cancellation_reason = reason.strip()
    membership.cancel_requested_at = timezone.now()
    membership.cancel_requested_by = _user(actor)
    membership.cancels_on = preview.last_day
    fields = ["cancellation_reason", "cancel_requested_at", "cancel_requested_by", "cancels_on"]
    if preview.immediate:
        membership.auto_renew = False
        if membership.end_date is None or membership.end_date > today:
            membership.end_date = today
        _save(membership, *fields, "auto_renew", "end_date")
        MembershipFreeze.objects.filter(
            membership=membership, status=MembershipFreeze.Status.SCHEDULED
        ).update(status=MembershipFreeze.Status.CANCELLED)
        MembershipFreeze.objects.filter(
            membership=membership, status=MembershipFreeze.Status.ACTIVE
        ).update(status=MembershipFreeze.Status.ENDED, ended_on=today)
        _transition(membership, S.CANCELLED, actor=actor, reason=membership.cancellation_reason)
        for invoice in membership_open_invoices(membership).filter(amount_paid=0):
            billing.invoice_void(invoice=invoice, actor=actor, reason=_("Membership cancelled"))
    else:
        _save(membership, *fields)
    _notify(
        membership,
        "cancellation_confirmed",
        f"cancel-{membership.cancels_on}",
        last_day=membership.cancels_on,
        explanation=preview.explanation,
    )
    if staff and actor is not None:
        audit_record(
            actor=actor,
            action="membership.cancel",
            target=membership,
            data={"immediately": immediately, "last_day": str(membership.cancels_on)},
        )
    return membership


@transaction.atomic
def membership_cancel_withdraw(*, membership: Membership, actor: User | None = None) -> Membership:
    """Keep a membership after all, before its scheduled last day."""
    membership = _lock(membership)
    if membership.status in TERMINAL or not membership.cancels_on:
        raise Conflict(_("This membership is not set to end."), code="not_cancelling")
    membership.cancels_on = None
    membership.cancellation_reason = ""
    membership.cancel_requested_at = None
    membership.cancel_requested_by = None
    _save(
        membership,
        "cancels_on",
        "cancellation_reason",
        "cancel_requested_at",
        "cancel_requested_by",
    )
    return membership


# --- expiry and reminders ----------------------------------------------------------


def memberships_expire_due(*, today: date | None = None) -> dict:
    """Daily: end memberships whose last day has passed (scheduled cancellations,
    fixed terms, packs and tickets); cancel purchases left unpaid too long."""
    today = today or _today()
    cancelled = expired = abandoned = 0
    for pk in (
        Membership.objects.filter(cancels_on__lt=today)
        .exclude(status__in=TERMINAL)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status in TERMINAL or not membership.cancels_on:
                continue
            if membership.cancels_on >= today:
                continue
            for invoice in membership_open_invoices(membership).filter(amount_paid=0):
                billing.invoice_void(invoice=invoice, reason=_("Membership ended"))
            membership.refresh_from_db(fields=["status"])
            if membership.status in TERMINAL:
                continue
            _transition(
                membership,
                S.CANCELLED,
                actor=membership.cancel_requested_by,
                reason=membership.cancellation_reason or _("Cancelled at the end of the term"),
            )
            cancelled += 1
    for pk in Membership.objects.filter(
        end_date__lt=today, status__in=[S.ACTIVE, S.FROZEN, S.PAST_DUE, S.SUSPENDED]
    ).values_list("pk", flat=True):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status in TERMINAL or not membership.end_date:
                continue
            if membership.end_date >= today:
                continue
            _transition(membership, S.EXPIRED, actor=None, reason=_("Reached its end date"))
            expired += 1
    stale = today - timedelta(days=getattr(settings, "MEMBERSHIP_PENDING_DAYS", 14))
    for pk in Membership.objects.filter(status=S.PENDING, created_at__date__lt=stale).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            membership = _lock(pk)
            if membership.status != S.PENDING:
                continue
            for invoice in membership_open_invoices(membership).filter(amount_paid=0):
                billing.invoice_void(invoice=invoice, reason=_("Never paid"))
            membership.refresh_from_db(fields=["status"])
            if membership.status == S.PENDING:
                _transition(membership, S.CANCELLED, actor=None, reason=_("Never paid"))
            abandoned += 1
    return {"cancelled": cancelled, "expired": expired, "abandoned": abandoned}


def memberships_send_reminders(*, today: date | None = None) -> int:
    """Daily: email members whose membership ends in one of ``MEMBERSHIP_REMINDER_DAYS``."""
    today = today or _today()
    days = tuple(getattr(settings, "MEMBERSHIP_REMINDER_DAYS", (7, 1)))
    sent = 0
    targets = [today + timedelta(days=d) for d in days]
    memberships = (
        Membership.objects.filter(status__in=[S.ACTIVE, S.FROZEN])
        .filter(Q(cancels_on__in=targets) | (Q(cancels_on__isnull=True) & Q(end_date__in=targets)))
        .select_related("plan", "member", "payer")
    )
    for membership in memberships:
        last_day = membership.cancels_on or membership.end_date
        with transaction.atomic():
            _notify(
                membership,
                "ending_soon",
                f"ending-{last_day}-{(last_day - today).days}",
                last_day=last_day,
                days_left=(last_day - today).days,
            )
        sent += 1
    return sent


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
    gross = quantize(amount + amount * branch.tax_rate)
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


# --- staff tools -------------------------------------------------------------------


@transaction.atomic
def membership_comp_period(*, membership: Membership, actor: User, reason: str) -> Membership:
    """Give a period free: settle the open period invoice with a credit note, or
    (nothing open) extend the current period by one billing period at no charge."""
    if not reason or not reason.strip():
        raise ServiceError(_("Give a reason."), code="required", field="reason")
    membership = _lock(membership)
    if membership.status in TERMINAL:
        raise Conflict(_("This membership has ended."), code="already_ended")
    open_invoice = membership_open_invoices(membership).order_by("pk").first()
    if open_invoice is not None:
        billing.credit_note_issue(
            invoice=open_invoice, amount=open_invoice.amount_due, reason=reason, actor=actor
        )
        membership.refresh_from_db()
        return membership
    if not bills_periodically(membership.plan) or not membership.current_period_end:
        raise ServiceError(
            _("Only a recurring membership has periods to give."), code="not_recurring"
        )
    start = membership.current_period_end + timedelta(days=1)
    membership.current_period_end = period_end_for(membership.plan, start)
    if membership.end_date:
        membership.end_date += membership.current_period_end - start + timedelta(days=1)
    _save(membership, "current_period_end", "end_date")
    audit_record(
        actor=actor,
        action="membership.comp",
        target=membership,
        data={"reason": reason.strip(), "until": str(membership.current_period_end)},
    )
    return membership


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


# --- credits and entries (used by bookings and access) -------------------------------


@transaction.atomic
def membership_consume_credit(*, membership: Membership) -> None:
    """Use one class credit, atomically; memberships without credits are unlimited.

    One conditional UPDATE: two bookings racing for the last credit cannot both win.
    """
    if membership.credits_remaining is None:
        return
    used = Membership.objects.filter(pk=membership.pk, credits_remaining__gt=0).update(
        credits_remaining=F("credits_remaining") - 1
    )
    if not used:
        raise ServiceError("No class credits left on this membership.", code="no_credits")
    membership.refresh_from_db(fields=["credits_remaining"])


@transaction.atomic
def membership_return_credit(*, membership: Membership) -> None:
    if membership.credits_remaining is None:
        return
    Membership.objects.filter(pk=membership.pk).update(credits_remaining=F("credits_remaining") + 1)
    membership.refresh_from_db(fields=["credits_remaining"])


@transaction.atomic
def membership_consume_entry(*, membership: Membership) -> None:
    """Use one visit of a limited-entry ticket, atomically; others are unlimited."""
    if membership.entries_remaining is None:
        return
    used = Membership.objects.filter(pk=membership.pk, entries_remaining__gt=0).update(
        # updated_at moves too: offline door devices sync the allow-list by it.
        entries_remaining=F("entries_remaining") - 1,
        updated_at=timezone.now(),
    )
    if not used:
        raise ServiceError("No entries left on this ticket.", code="no_entries_left")
    membership.refresh_from_db(fields=["entries_remaining"])


# --- tickets sold elsewhere -----------------------------------------------------------


@transaction.atomic
def ticket_grant(
    *,
    member: Member,
    plan: Plan,
    on: date,
    entries: int,
    branch: Branch,
    reason: str,
    actor: User | None = None,
) -> Membership:
    """An entry ticket for one day, sold and paid outside memberships (a day pass at
    the till): active at once, no invoice of its own. The door decides on it like any
    ticket (the plan's branches, ``entries_remaining``, the one day)."""
    if plan.kind != Plan.Kind.ENTRY_TICKET or plan.organisation_id != member.organisation_id:
        raise ServiceError(_("Unknown plan."), code="unknown_plan", field="plan")
    if entries < 1:
        raise ServiceError(_("A ticket needs at least one entry."), code="invalid_entries")
    membership = Membership.objects.create(
        organisation_id=member.organisation_id,
        member=member,
        payer=member.billing_member,
        plan=plan,
        branch=branch,
        status=S.ACTIVE,
        start_date=on,
        end_date=on,
        current_period_start=on,
        current_period_end=on,
        auto_renew=False,
        price=plan.price,
        currency=plan.currency,
        entries_remaining=entries,
    )
    MembershipStatusChange.objects.create(
        organisation_id=membership.organisation_id,
        membership=membership,
        from_status="",
        to_status=S.ACTIVE,
        actor=_user(actor),
        reason=reason[:2000],
    )
    return membership


def day_ticket_plan_create(*, name: str, price: Decimal, currency: str, branch: Branch) -> Plan:
    """The plan behind a day pass sold at one branch's till: a one-entry ticket that
    opens that branch only. Retired from the start, so the membership shop never
    offers it; the till sells it (``ticket_grant``)."""
    plan = Plan.objects.create(
        organisation_id=branch.organisation_id,
        name=name[:150],
        kind=Plan.Kind.ENTRY_TICKET,
        status=Plan.Status.RETIRED,
        retired_at=timezone.now(),
        price=price,
        currency=currency,
        entries=1,
        auto_renew=False,
    )
    plan.branches.set([branch])
    return plan
