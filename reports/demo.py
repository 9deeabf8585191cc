"""Demo data for the reports: a year of history behind the other apps' recent weeks.

The other seeds make a few weeks of visits and classes and up to eight months of
memberships. This one copies those weeks further back with set-based SQL (visits
back to a year ago, past classes with their bookings), adds a year of members who
joined and left (with their reasons and invoices), and builds the rollups, so every
report has a year to show. Idempotent: it returns early once its data exists.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from accounts.models import Member, Role, RoleAssignment
from billing.models import DocumentCounter, Invoice, InvoiceLine, Payment
from memberships.models import Membership, Plan
from reports import rollups
from reports.models import RollupState, SummarySubscription

DAYS = 365
LEAVERS = 90
REASONS = ["Moving away", "Too expensive", "Injury", "Not using it enough", ""]


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [c for (c,) in cursor.fetchall() if c != "id"]


def _copy_back(table: str, where: str, shifts: dict[str, str], weeks: int, params) -> None:
    """Copy the rows ``where`` picks k weeks back (k = step, 2·step, … up to a year)."""
    columns = _columns(table)
    select = ", ".join(shifts.get(c, c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table}, "
            f"generate_series(1, %(copies)s) AS k WHERE {where}",
            {**params, "copies": DAYS // (7 * weeks), "step": f"{7 * weeks} days"},
        )


def _leavers(organisation, rng: random.Random) -> None:
    """Members who joined in the past year and left, with why, and what they paid."""
    today = timezone.localdate()
    plans = list(Plan.objects.exclude(billing_interval="").order_by("pk"))
    members = list(Member.objects.exclude(home_branch=None).order_by("pk")[:LEAVERS])
    if not plans or not members:
        return
    # Numbered after the invoices already issued; the counter moves on past them.
    counter, _ = DocumentCounter.objects.get_or_create(kind=DocumentCounter.Kind.INVOICE)
    number = max(counter.last_number, Invoice.objects.aggregate(n=Max("number"))["n"] or 0)
    for member in members:
        plan = rng.choice(plans)
        start = today - timedelta(days=rng.randint(200, DAYS))
        months = rng.randint(1, 5)
        end = start + timedelta(days=30 * months - 1)
        membership = Membership.objects.create(
            member=member,
            payer=member.billing_member,
            plan=plan,
            branch=member.home_branch,
            status=Membership.Status.CANCELLED,
            start_date=start,
            end_date=end,
            cancels_on=end,
            cancellation_reason=rng.choice(REASONS),
            price=plan.price,
            currency=plan.currency,
            created_at=timezone.make_aware(datetime.combine(start, time(10))),
        )
        for month in range(months):
            issued = timezone.make_aware(
                datetime.combine(start + timedelta(days=30 * month), time(9))
            )
            tax = (plan.price / Decimal("6")).quantize(Decimal("0.01"))
            number += 1
            invoice = Invoice.objects.create(
                number=number,
                branch=member.home_branch,
                payer=member.billing_member,
                status=Invoice.Status.PAID,
                currency=plan.currency,
                subtotal=plan.price - tax,
                tax_total=tax,
                total=plan.price,
                amount_paid=plan.price,
                issued_at=issued,
                due_date=issued.date(),
                paid_at=issued,
                created_at=issued,
            )
            InvoiceLine.objects.create(
                invoice=invoice,
                description=plan.name,
                quantity=1,
                unit_price=plan.price - tax,
                tax_rate=Decimal("0.2000"),
                subtotal=plan.price - tax,
                tax_amount=tax,
                total=plan.price,
                source_type=rollups.MEMBERSHIP_LINE,
                source_id=str(membership.pk),
            )
            Payment.objects.create(
                invoice=invoice,
                branch=member.home_branch,
                payer=member.billing_member,
                amount=plan.price,
                currency=plan.currency,
                status=Payment.Status.SUCCEEDED,
                provider=rng.choice(["manual", "stripe"]),
                created_at=issued,
                completed_at=issued,
            )

    DocumentCounter.objects.filter(pk=counter.pk).update(last_number=number)


def seed(*, organisation, rng: random.Random) -> None:
    if RollupState.objects.exists():
        return
    params = {"org": organisation.pk}
    first = timezone.now() - timedelta(days=DAYS)
    params["first"] = first
    # Visits: the access seed's five weeks, again and again back to a year ago.
    _copy_back(
        "access_accesslog",
        "organisation_id = %(org)s AND occurred_at > now() - interval '35 days'"
        " AND occurred_at - k * interval '35 days' > %(first)s",
        {
            "occurred_at": "occurred_at - k * interval '35 days'",
            "received_at": "received_at - k * interval '35 days'",
            "request_id": "NULL",
        },
        5,
        params,
    )
    _leavers(organisation, rng)
    _past_classes(organisation)
    owner = RoleAssignment.objects.filter(role=Role.OWNER).select_related("user").first()
    if owner is not None:
        SummarySubscription.objects.get_or_create(user=owner.user)
    today = timezone.localdate()
    rollups.rollup_rebuild(
        organisation_id=organisation.pk, start=today - timedelta(days=DAYS + 400), end=today
    )
    rollups.rollup_fold(organisation_id=organisation.pk)


def _past_classes(organisation) -> None:
    """The classes seed's past two weeks, with their bookings, repeated back a year."""
    session_columns = _columns("classes_classsession")
    booking_columns = _columns("bookings_booking")
    with connection.cursor() as cursor:
        for k in range(1, DAYS // 14 + 1):
            shift = f"{14 * k} days"
            select = ", ".join(
                {
                    "starts_at": "s.starts_at - %(shift)s::interval",
                    "ends_at": "s.ends_at - %(shift)s::interval",
                    "occurrence_date": "s.occurrence_date - %(days)s",
                    "schedule_id": "NULL",
                    "created_at": "s.created_at - %(shift)s::interval",
                }.get(c, f"s.{c}")
                for c in session_columns
            )
            bookings = ", ".join(
                {
                    "session_id": "n.id",
                    "created_at": "b.created_at - %(shift)s::interval",
                    "cancelled_at": "b.cancelled_at - %(shift)s::interval",
                    "promoted_at": "b.promoted_at - %(shift)s::interval",
                    "attendance_marked_at": "b.attendance_marked_at - %(shift)s::interval",
                    "reminder_sent_at": "NULL",
                }.get(c, f"b.{c}")
                for c in booking_columns
            )
            cursor.execute(
                f"""
WITH old AS (
    SELECT * FROM classes_classsession s
    WHERE s.organisation_id = %(org)s AND s.schedule_id IS NOT NULL
      AND s.starts_at BETWEEN now() - interval '14 days' AND now()
),
new AS (
    INSERT INTO classes_classsession ({", ".join(session_columns)})
    SELECT {select} FROM old s
    RETURNING id, branch_id, room_id, starts_at
)
INSERT INTO bookings_booking ({", ".join(booking_columns)})
SELECT {bookings}
FROM bookings_booking b
JOIN old o ON o.id = b.session_id
JOIN new n ON n.branch_id = o.branch_id AND n.room_id IS NOT DISTINCT FROM o.room_id
          AND n.starts_at = o.starts_at - %(shift)s::interval
""",
                {"org": organisation.pk, "shift": shift, "days": 14 * k},
            )
