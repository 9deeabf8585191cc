"""Demo data: plans of every kind and memberships in every status, with invoice history.

Most rows are bulk-created (a few seconds for the 300 demo members); the showcase
members go through the real services so their records are exactly what the app
makes: the demo login (Jamie) and the household, a declined renewal in dunning, a
suspended membership, a freeze, a scheduled cancellation and a pending purchase.
"""

from __future__ import annotations

import contextlib
import random
from datetime import date, time, timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from accounts.models import Branch, Member
from billing import services as billing
from billing.models import DocumentCounter, Invoice, InvoiceLine, Payment
from gymsite.errors import ServiceError
from gymsite.money import tax_on
from memberships import services
from memberships.models import Membership, MembershipStatusChange, Plan

S = Membership.Status


def _plans(organisation, branches: list[Branch]) -> dict[str, Plan]:
    today = timezone.localdate()
    gbp = organisation.currency
    specs = {
        "flex": {
            "name": "Monthly Flex",
            "kind": Plan.Kind.RECURRING,
            "price": Decimal("39.00"),
            "signup_fee": Decimal("20.00"),
            "billing_interval": Plan.Interval.MONTH,
            "notice_period_days": 30,
            "features": ["All branches", "Unlimited gym floor", "2 classes a week"],
            "weekly_attendance_limit": 2,
        },
        "annual": {
            "name": "Annual Saver",
            "kind": Plan.Kind.RECURRING,
            "price": Decimal("399.00"),
            "billing_interval": Plan.Interval.YEAR,
            "minimum_term_months": 12,
            "notice_period_days": 30,
            "features": ["Two months free", "All classes", "Guest pass each month"],
        },
        "student": {
            "name": "Student Off-Peak (4-weekly)",
            "kind": Plan.Kind.RECURRING,
            "price": Decimal("25.00"),
            "intro_price": Decimal("0.00"),
            "billing_interval": Plan.Interval.WEEK,
            "interval_count": 4,
            "access_from": time(10, 0),
            "access_until": time(16, 0),
            "features": ["First 4 weeks free", "Weekdays 10:00-16:00"],
        },
        "premium": {
            "name": "Unlimited Premium",
            "kind": Plan.Kind.UNLIMITED,
            "price": Decimal("79.00"),
            "billing_interval": Plan.Interval.MONTH,
            "minimum_term_months": 3,
            "features": ["Every class", "Sauna and spa", "Towel service"],
            "max_freeze_days_per_year": 90,
            "max_freezes_per_year": 3,
        },
        "kickstart": {
            "name": "3-Month Kickstart",
            "kind": Plan.Kind.FIXED_TERM,
            "price": Decimal("99.00"),
            "duration_days": 90,
            "auto_renew": False,
            "features": ["Paid up front", "Induction with a trainer"],
        },
        "pack": {
            "name": "10-Class Pack",
            "kind": Plan.Kind.CLASS_PACK,
            "price": Decimal("80.00"),
            "credits": 10,
            "credit_validity_days": 90,
            "auto_renew": False,
            "features": ["Any 10 classes within 90 days"],
        },
        "ticket": {
            "name": "Summer 20-Visit Ticket",
            "kind": Plan.Kind.ENTRY_TICKET,
            "price": Decimal("120.00"),
            "entries": 20,
            "valid_from": today - timedelta(days=30),
            "valid_until": today + timedelta(days=60),
            "auto_renew": False,
            "features": ["20 visits", "Valid all summer"],
        },
        "camden": {
            "name": "Camden Local",
            "kind": Plan.Kind.RECURRING,
            "price": Decimal("29.00"),
            "billing_interval": Plan.Interval.MONTH,
            "features": ["Camden branch only"],
        },
        "legacy": {
            "name": "Legacy Monthly (retired)",
            "kind": Plan.Kind.RECURRING,
            "price": Decimal("30.00"),
            "billing_interval": Plan.Interval.MONTH,
            "status": Plan.Status.RETIRED,
            "retired_at": timezone.now() - timedelta(days=200),
        },
    }
    plans = {}
    for key, spec in specs.items():
        plans[key] = Plan.objects.create(currency=gbp, **spec)
    camden = [b for b in branches if b.slug == "camden"] or branches[:1]
    plans["camden"].branches.set(camden)
    return plans


def _periods(plan: Plan, start: date, today: date) -> list[tuple[date, date]]:
    periods = []
    while start <= today:
        end = services.period_end_for(plan, start)
        periods.append((start, end))
        start = end + timedelta(days=1)
    return periods


class _Book:
    """Collects bulk rows and numbers invoices in order."""

    def __init__(self, organisation, number: int):
        self.organisation = organisation
        self.number = number
        self.memberships: list[tuple[Membership, list]] = []

    def add(self, membership: Membership, history: list[tuple[date, date, Decimal, str]]):
        self.memberships.append((membership, history))


def _bulk(organisation, book: _Book, tax_rates: dict[int, Decimal]) -> None:
    Membership.objects.bulk_create([m for m, _ in book.memberships])
    changes, invoices, lines_for = [], [], []
    now = timezone.now()
    for membership, history in book.memberships:
        created = timezone.make_aware(timezone.datetime.combine(membership.start_date, time(9, 0)))
        changes.append(
            MembershipStatusChange(
                membership=membership,
                from_status="",
                to_status=S.PENDING,
                reason="Bought",
                created_at=created,
            )
        )
        if membership.status != S.PENDING:
            changes.append(
                MembershipStatusChange(
                    membership=membership,
                    from_status=S.PENDING,
                    to_status=S.ACTIVE,
                    reason="First invoice paid",
                    created_at=created + timedelta(minutes=5),
                )
            )
        if membership.status not in (S.PENDING, S.ACTIVE):
            changes.append(
                MembershipStatusChange(
                    membership=membership,
                    from_status=S.ACTIVE,
                    to_status=membership.status,
                    reason={
                        S.EXPIRED: "Reached its end date",
                        S.CANCELLED: membership.cancellation_reason or "Cancelled",
                    }.get(membership.status, "Demo"),
                    created_at=now - timedelta(days=3),
                )
            )
        rate = tax_rates[membership.branch_id]
        for start, end, price, status in history:
            book.number += 1
            tax = tax_on(price, rate)
            issued = timezone.make_aware(timezone.datetime.combine(start, time(6, 0)))
            invoices.append(
                Invoice(
                    branch_id=membership.branch_id,
                    payer_id=membership.payer_id,
                    number=book.number,
                    status=status,
                    currency=membership.currency,
                    subtotal=price,
                    tax_total=tax,
                    total=price + tax,
                    amount_paid=price + tax if status == Invoice.Status.PAID else 0,
                    issued_at=issued,
                    due_date=start,
                    paid_at=issued if status == Invoice.Status.PAID else None,
                    voided_at=issued if status == Invoice.Status.VOID else None,
                    billing_key=f"membership:{membership.pk}:"
                    + ("first" if start == membership.start_date else start.isoformat()),
                )
            )
            lines_for.append((membership, start, end, price, rate, tax))
    MembershipStatusChange.objects.bulk_create(changes)
    invoices = Invoice.objects.bulk_create(invoices)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                description=f"{m.plan.name} ({start} – {end})",
                unit_price=price,
                tax_rate=rate,
                subtotal=price,
                tax_amount=tax,
                total=price + tax,
                source_type=services.MEMBERSHIP_SOURCE,
                source_id=str(m.pk),
                period_start=start,
                period_end=end,
            )
            for invoice, (m, start, end, price, rate, tax) in zip(invoices, lines_for, strict=True)
        ]
    )
    Payment.objects.bulk_create(
        [
            Payment(
                invoice=invoice,
                branch_id=invoice.branch_id,
                payer_id=invoice.payer_id,
                amount=invoice.total,
                currency=invoice.currency,
                provider="sandbox" if invoice.pk % 3 else "manual",
                reference=f"ch_demo_{invoice.pk}" if invoice.pk % 3 else "",
                status=Payment.Status.SUCCEEDED,
                completed_at=invoice.paid_at,
            )
            for invoice in invoices
            if invoice.status == Invoice.Status.PAID and invoice.total > 0
        ]
    )


def seed(*, organisation, rng: random.Random) -> None:
    if Plan.objects.exists():
        return
    today = timezone.localdate()
    branches = list(Branch.objects.order_by("pk"))
    tax_rates = {b.pk: b.tax_rate for b in branches}
    plans = _plans(organisation, branches)
    members = list(Member.objects.filter(payer__isnull=True).order_by("pk"))
    if not members:
        return
    jamie, others = members[0], members[1:]
    last = Invoice.objects.aggregate(n=Max("number"))["n"] or 0
    book = _Book(organisation, last)

    def membership(member, plan, status, start, **extra):
        periods = _periods(plan, start, today) if services.bills_periodically(plan) else []
        term = services.term_for(plan, start)
        current = periods[-1] if periods else (term.start, term.period_end)
        m = Membership(
            member=member,
            payer=member,
            plan=plan,
            branch_id=member.home_branch_id,
            status=status,
            start_date=term.start,
            end_date=extra.pop("end_date", term.end_date),
            current_period_start=current[0],
            current_period_end=current[1],
            auto_renew=services.bills_periodically(plan) and plan.auto_renew,
            price=plan.price,
            currency=plan.currency,
            credits_remaining=extra.pop("credits", term.credits),
            entries_remaining=extra.pop("entries", term.entries),
            created_at=timezone.make_aware(timezone.datetime.combine(term.start, time(9, 0))),
            **extra,
        )
        if status == S.PENDING:
            history = [(term.start, current[1], plan.first_period_price, Invoice.Status.OPEN)]
        elif periods:
            history = [
                (s, e, plan.first_period_price if i == 0 else plan.price, Invoice.Status.PAID)
                for i, (s, e) in enumerate(periods)
            ]
        else:
            history = [(term.start, term.period_end, plan.price, Invoice.Status.PAID)]
        book.add(m, history)

    # Most members: an active recurring or premium membership, started months ago.
    recurring = [plans["flex"], plans["flex"], plans["premium"], plans["annual"], plans["student"]]
    for index, member in enumerate(others):
        roll = index % 20
        months = rng.randint(1, 8)
        start = today - timedelta(days=30 * months + rng.randint(0, 25))
        if roll < 13:
            membership(member, rng.choice(recurring), S.ACTIVE, start)
        elif roll == 13:
            membership(member, plans["pack"], S.ACTIVE, today - timedelta(days=20), credits=6)
        elif roll == 14:
            membership(member, plans["ticket"], S.ACTIVE, today - timedelta(days=10), entries=13)
        elif roll == 15:
            membership(member, plans["kickstart"], S.ACTIVE, today - timedelta(days=40))
        elif roll == 16:
            expired_start = today - timedelta(days=200)
            membership(
                member,
                plans["kickstart"],
                S.EXPIRED,
                expired_start,
                end_date=expired_start + timedelta(days=89),
            )
        elif roll == 17:
            membership(
                member,
                plans["legacy"],
                S.CANCELLED,
                start - timedelta(days=200),
                cancels_on=today - timedelta(days=3),
                end_date=today - timedelta(days=3),
                cancellation_reason="I am moving away",
                cancel_requested_at=timezone.now() - timedelta(days=40),
            )
        elif roll == 18:
            membership(member, plans["camden"], S.ACTIVE, start)
        else:
            membership(member, plans["flex"], S.PENDING, today)
    _bulk(organisation, book, tax_rates)
    DocumentCounter.objects.update_or_create(
        kind=DocumentCounter.Kind.INVOICE, defaults={"last_number": book.number}
    )

    # Showcases through the real services.
    _showcases(organisation, plans, jamie, others, today)


def _card(member, *, declining=False):
    return billing.payment_method_save(
        member=member,
        provider="sandbox",
        method_reference=f"pm_decline_insufficient_funds_{member.pk}"
        if declining
        else f"pm_card_visa_{member.pk}",
        brand="visa",
        last4="9995" if declining else "4242",
        exp_month=rng_month(member.pk),
        exp_year=2029,
    )


def rng_month(seed: int) -> int:
    return seed % 12 + 1


def _showcases(organisation, plans, jamie, others, today) -> None:
    # Jamie (member@demo.spotter): Monthly Flex, paid for six months, saved card,
    # household payer for Robin, who has a class pack bought in the portal.
    _card(jamie)
    start = today - timedelta(days=170)
    with_history = Membership.objects.create(
        member=jamie,
        payer=jamie,
        plan=plans["flex"],
        branch=jamie.home_branch,
        status=S.PENDING,
        start_date=start,
        current_period_start=start,
        current_period_end=services.period_end_for(plans["flex"], start),
        auto_renew=True,
        price=plans["flex"].price,
        currency=plans["flex"].currency,
    )
    MembershipStatusChange.objects.create(
        membership=with_history, from_status="", to_status=S.PENDING, reason="Bought"
    )
    first = billing.invoice_issue(
        payer=jamie,
        branch=jamie.home_branch,
        lines=[
            billing.InvoiceLineSpec(
                description=f"Monthly Flex ({start} – {with_history.current_period_end})",
                quantity=1,
                unit_price=plans["flex"].price,
                source_type=services.MEMBERSHIP_SOURCE,
                source_id=str(with_history.pk),
                period_start=start,
                period_end=with_history.current_period_end,
            ),
            billing.InvoiceLineSpec(
                description="Sign-up fee", quantity=1, unit_price=plans["flex"].signup_fee
            ),
        ],
        billing_key=f"membership:{with_history.pk}:first",
        notify=False,
    )
    Membership.objects.filter(pk=with_history.pk).update(start_date=today)
    billing.payment_record(invoice=first, amount=first.total, provider="manual")
    # Activation starts the term today; put it back on the demo timeline and renew it
    # month by month through the real renewal path (charged to the saved card).
    Membership.objects.filter(pk=with_history.pk).update(
        start_date=start,
        current_period_start=start,
        current_period_end=services.period_end_for(plans["flex"], start),
    )
    for _ in range(8):
        invoice = services.membership_renew(
            membership=with_history.pk, today=today, prepare_charge=True
        )
        if invoice is None:
            break
        if invoice.prepared_payment is not None:
            billing.invoice_charge(payment=invoice.prepared_payment, invoice=invoice)
    robin = Member.objects.filter(payer=jamie).first()
    if robin is not None:
        pack = services.membership_purchase(member=robin, plan=plans["pack"], actor=jamie.user)
        invoice = services.membership_open_invoices(pack).first()
        billing.invoice_collect(invoice=invoice)
    billing.member_charge_add(
        member=jamie,
        branch=jamie.home_branch,
        description="Late cancellation: Spin 18:30",
        amount=Decimal("5.00"),
        source_type="demo.late_cancel",
        source_id="jamie-1",
    )

    # A renewal declined today: past due, with a retry scheduled and an email queued.
    # Showcases among the members holding an active monthly membership (not Jamie).
    candidates = list(
        Membership.objects.filter(
            status=S.ACTIVE, plan__in=[plans["flex"], plans["camden"]], auto_renew=True
        )
        .exclude(member=jamie)
        .select_related("member__user", "plan")
        .order_by("pk")[:5]
    )
    if len(candidates) < 5:
        return
    declined, suspended, frozen, leaving, switching = candidates
    for m in (declined, suspended):
        # A renewal declined today: past due, a retry scheduled, the payer emailed.
        _card(m.member, declining=True)
        Membership.objects.filter(pk=m.pk).update(
            current_period_start=today - timedelta(days=30),
            current_period_end=today - timedelta(days=1),
        )
        invoice = services.membership_renew(membership=m.pk, today=today, prepare_charge=True)
        if invoice is None or invoice.prepared_payment is None:
            continue
        billing.invoice_charge(payment=invoice.prepared_payment, invoice=invoice)
        if m is suspended:
            # Every dunning retry fails too: suspended after the last one.
            for _ in billing.dunning_retry_days():
                invoice.refresh_from_db()
                if invoice.next_collection_at is None:
                    break
                billing.invoice_collect(invoice=invoice, now=invoice.next_collection_at)
    services.membership_freeze(
        membership=frozen,
        start_date=today,
        end_date=today + timedelta(days=13),
        reason="Skiing holiday",
        actor=frozen.member.user,
    )
    services.membership_cancel(
        membership=leaving,
        reason="It costs too much: found a cheaper gym",
        actor=leaving.member.user,
    )
    # An upgrade awaiting payment of its prorated invoice.
    with contextlib.suppress(ServiceError):
        services.membership_change_plan(membership=switching, to_plan=plans["premium"])
