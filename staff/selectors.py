"""Staff reads: who may invite or manage whom, invitations by link, the rota,
pay rates in force, and the payroll computed from what happened."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, Organisation, Role, RoleAssignment, TrainerProfile, User
from accounts.tenancy import get_scope, require_scope
from bookings.models import Appointment, Booking
from classes.models import ClassSession
from gymsite.errors import NotAllowed, ServiceError
from gymsite.money import quantize
from inventory.models import Order
from staff.models import (
    ROLE_RANK,
    Employment,
    Invitation,
    PayLine,
    PayPeriod,
    PayRate,
    Shift,
    token_digest,
)

__all__ = ["ROLE_RANK"]


@dataclass(frozen=True)
class Authority:
    is_owner: bool
    managed_branch_ids: frozenset[int]


def inviting_authority(*, user: User) -> Authority:
    """What a person may do with other staff in the gym in scope."""
    if user.is_superuser:
        return Authority(is_owner=True, managed_branch_ids=frozenset())
    rows = list(
        RoleAssignment.objects.unscoped()
        .filter(organisation_id=require_scope().organisation_id, user=user)
        .values_list("role", "branch_id")
    )
    return Authority(
        is_owner=any(role == Role.OWNER for role, _b in rows),
        managed_branch_ids=frozenset(b for role, b in rows if role == Role.BRANCH_MANAGER),
    )


def check_may_manage(*, actor: User, user: User) -> None:
    """Owners manage every staff member; a branch manager those whose roles are all
    below theirs and at the branches they manage."""
    authority = inviting_authority(user=actor)
    if authority.is_owner:
        return
    rows = list(
        RoleAssignment.objects.unscoped()
        .filter(organisation_id=require_scope().organisation_id, user=user)
        .values_list("role", "branch_id")
    )
    # Branches the person trains at in this gym (the through table is not scoped).
    trainer_branches = set(
        TrainerProfile.branches.through.objects.filter(
            trainerprofile__user=user,
            trainerprofile__organisation_id=require_scope().organisation_id,
        ).values_list("branch_id", flat=True)
    )
    allowed = bool(authority.managed_branch_ids) and all(
        ROLE_RANK[role] < ROLE_RANK[Role.BRANCH_MANAGER]
        and (branch in authority.managed_branch_ids if branch else True)
        for role, branch in rows
    )
    if not allowed or not trainer_branches <= authority.managed_branch_ids:
        raise NotAllowed(_("You cannot manage this person."), code="not_allowed")


def works_here(*, user: User) -> bool:
    """Whether a person is (or was) staff of the gym in scope: a role, a trainer
    profile or an employment here. Members are not; nor is anyone of another gym."""
    return (
        RoleAssignment.objects.filter(user=user).exists()
        or TrainerProfile.objects.filter(user=user).exists()
        or Employment.objects.filter(user=user).exists()
    )


def organisation_name(organisation_id: int) -> str:
    return Organisation.objects.filter(pk=organisation_id).values_list("name", flat=True).get()


def invitation_link(*, invitation: Invitation, token: str) -> str:
    """The gym's own address when it has one (the accept page is in its scope)."""
    domain = (
        Organisation.objects.filter(pk=invitation.organisation_id)
        .values_list("domain", flat=True)
        .get()
    )
    base = settings.SITE_URL.rstrip("/")
    if domain:
        base = f"{base.split('://')[0]}://{domain}"
    return base + reverse("staff:invitation", args=[token])


def invitation_for_token(*, token: str) -> Invitation | None:
    """The invitation a link names, whichever gym is in scope (the link decides the
    gym; callers then work inside that gym's scope)."""
    return (
        Invitation.objects.unscoped()
        .filter(token_digest=token_digest(token))
        .select_related("organisation")
        .first()
    )


def invitation_unknown_message() -> str:
    return _(
        "This invitation link is not valid. Check that you opened the whole link "
        "from the email, or ask the gym for a new invitation."
    )


def invitation_open(*, token: str, now: datetime) -> Invitation:
    """The invitation, still open; else an error that explains why the link fails."""
    invitation = invitation_for_token(token=token)
    scope = get_scope()
    if invitation is None or (scope and scope.organisation_id != invitation.organisation_id):
        raise ServiceError(invitation_unknown_message(), code="invitation_unknown")
    if invitation.status == Invitation.Status.REVOKED:
        raise ServiceError(
            _("This invitation was withdrawn by the gym. Ask them if you think it is a mistake."),
            code="invitation_revoked",
        )
    if invitation.status == Invitation.Status.ACCEPTED:
        raise ServiceError(
            _("This invitation has already been used. Sign in to continue."),
            code="invitation_used",
        )
    if invitation.is_expired(now):
        raise ServiceError(
            _("This invitation expired on %(date)s. Ask the gym to send it again.")
            % {"date": timezone.localtime(invitation.expires_at).strftime("%d/%m/%Y")},
            code="invitation_expired",
        )
    return invitation


def invitation_case(*, invitation: Invitation) -> str:
    """Who the invitee is now: nobody we know, a member of this gym, or someone with
    a login (staff or member elsewhere: which gym is never read)."""
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user is None:
        return Invitation.Case.NEW_ACCOUNT
    if (
        Member.objects.unscoped()
        .filter(organisation_id=invitation.organisation_id, user=user)
        .exists()
    ):
        return Invitation.Case.MEMBER_HERE
    return Invitation.Case.EXISTING_LOGIN


def invitations_visible(*, user: User) -> QuerySet[Invitation]:
    """An owner sees every invitation; a branch manager those to their branches."""
    queryset = Invitation.objects.prefetch_related("branches").select_related("invited_by")
    authority = inviting_authority(user=user)
    if authority.is_owner:
        return queryset
    return queryset.filter(branches__in=authority.managed_branch_ids).distinct()


# --- Rota ---------------------------------------------------------------------------


def my_schedule(*, user: User, start: datetime, end: datetime) -> dict:
    """The person's classes, appointments and shifts between two instants (this gym)."""
    sessions = (
        ClassSession.objects.filter(
            trainer__user=user,
            status=ClassSession.Status.SCHEDULED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("class_type", "branch", "room")
        .order_by("starts_at")
    )
    appointments = (
        Appointment.objects.filter(
            trainer__user=user,
            status=Appointment.Status.BOOKED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .select_related("service", "branch")
        .order_by("starts_at")
    )
    shifts = (
        Shift.objects.filter(user=user, starts_at__gte=start, starts_at__lt=end)
        .select_related("branch")
        .order_by("starts_at")
    )
    return {"classes": sessions, "appointments": appointments, "shifts": shifts}


def shifts_for_desk(*, day_start: datetime, day_end: datetime) -> QuerySet[Shift]:
    return (
        Shift.objects.filter(starts_at__lt=day_end, ends_at__gt=day_start)
        .select_related("user", "branch")
        .order_by("starts_at", "pk")
    )


# --- Pay rates ------------------------------------------------------------------------


class RateBook:
    """Every rate of the gym, to answer "what did this work pay on that day" without a
    query per line. The most specific rate in force that day wins (a class type's over
    any class's); among those, the latest ``effective_from`` on or before the day."""

    def __init__(self, rates):
        self._by_key: dict[tuple, list[PayRate]] = defaultdict(list)
        for rate in rates:
            target = rate.class_type_id or rate.service_id
            self._by_key[(rate.user_id, rate.kind, target)].append(rate)
        for rows in self._by_key.values():
            rows.sort(key=lambda r: r.effective_from, reverse=True)

    def rate(self, *, user_id: int, kind: str, day: date, target: int | None = None):
        keys = [(user_id, kind, target)]
        if target is not None:
            keys.append((user_id, kind, None))
        for key in keys:
            for rate in self._by_key.get(key, ()):
                if rate.effective_from <= day:
                    return rate
        return None


def rate_book() -> RateBook:
    return RateBook(PayRate.objects.all())


# --- Payroll ---------------------------------------------------------------------------


def period_bounds(period: PayPeriod) -> tuple[datetime, datetime, ZoneInfo]:
    """The period's first and last local days as instants in the branch's zone."""
    zone = ZoneInfo(period.branch.timezone)
    start = datetime.combine(period.starts_on, time.min, tzinfo=zone)
    end = datetime.combine(period.ends_on + timedelta(days=1), time.min, tzinfo=zone)
    return start, end, zone


def payroll_lines_for(*, period: PayPeriod, now: datetime | None = None) -> list[PayLine]:
    """The period's pay lines as computed from what happened at its branch (unsaved):
    classes taught (by whoever taught them: a substitute is the session's trainer),
    with attendance; appointments held; shift hours clocked; commissions on sales
    rung up and personal training delivered. Adjustments are not computed: managers
    add them."""
    now = now or timezone.now()
    start, end, zone = period_bounds(period)
    end = min(end, now)
    book = rate_book()
    lines: list[PayLine] = []

    def add(*, user_id, kind, day, description, source, quantity, rate, amount):
        lines.append(
            PayLine(
                organisation_id=period.organisation_id,
                period=period,
                user_id=user_id,
                kind=kind,
                work_date=day,
                description=description[:255],
                source_type=source._meta.label_lower,
                source_id=source.pk,
                quantity=quantity,
                rate=rate,
                amount=quantize(amount),
            )
        )

    sessions = (
        ClassSession.objects.filter(
            branch_id=period.branch_id,
            status=ClassSession.Status.SCHEDULED,
            trainer__isnull=False,
            starts_at__gte=start,
            ends_at__lte=end,
        )
        .select_related("trainer", "class_type")
        .annotate(attended=Count("bookings", filter=Q(bookings__status=Booking.Status.ATTENDED)))
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        day = session.starts_at.astimezone(zone).date()
        user_id = session.trainer.user_id
        rate = book.rate(
            user_id=user_id, kind=PayRate.Kind.CLASS, day=day, target=session.class_type_id
        )
        if rate is None:
            continue
        above = max(session.attended - rate.attendee_threshold, 0)
        add(
            user_id=user_id,
            kind=PayLine.Kind.CLASS,
            day=day,
            description=_("%(class)s, %(n)s attended")
            % {"class": session.class_type.name, "n": session.attended},
            source=session,
            quantity=Decimal(session.attended),
            rate=rate,
            amount=rate.amount + rate.per_attendee * above,
        )

    appointments = (
        Appointment.objects.filter(
            branch_id=period.branch_id,
            status=Appointment.Status.ATTENDED,
            starts_at__gte=start,
            ends_at__lte=end,
        )
        .select_related("trainer", "service")
        .order_by("starts_at", "pk")
    )
    for appointment in appointments:
        day = appointment.starts_at.astimezone(zone).date()
        user_id = appointment.trainer.user_id
        target = appointment.service_id
        rate = book.rate(user_id=user_id, kind=PayRate.Kind.APPOINTMENT, day=day, target=target)
        if rate is not None:
            add(
                user_id=user_id,
                kind=PayLine.Kind.APPOINTMENT,
                day=day,
                description=appointment.service.name,
                source=appointment,
                quantity=Decimal(1),
                rate=rate,
                amount=rate.amount,
            )
        commission = book.rate(
            user_id=user_id, kind=PayRate.Kind.PT_COMMISSION, day=day, target=target
        )
        # The price the member was charged (kept on the appointment when booked).
        if commission is not None and appointment.price:
            add(
                user_id=user_id,
                kind=PayLine.Kind.PT_COMMISSION,
                day=day,
                description=_("%(pct)s%% of %(service)s")
                % {"pct": commission.percent, "service": appointment.service.name},
                source=appointment,
                quantity=appointment.price,
                rate=commission,
                amount=appointment.price * commission.percent / 100,
            )

    shifts = Shift.objects.filter(
        branch_id=period.branch_id,
        clock_in_at__gte=start,
        clock_in_at__lt=end,
        clock_out_at__isnull=False,
    ).order_by("clock_in_at", "pk")
    for shift in shifts:
        day = shift.clock_in_at.astimezone(zone).date()
        rate = book.rate(user_id=shift.user_id, kind=PayRate.Kind.SHIFT, day=day)
        if rate is None:
            continue
        hours = quantize(Decimal((shift.clock_out_at - shift.clock_in_at).total_seconds()) / 3600)
        add(
            user_id=shift.user_id,
            kind=PayLine.Kind.SHIFT,
            day=day,
            description=_("Shift %(start)s–%(end)s")
            % {
                "start": shift.clock_in_at.astimezone(zone).strftime("%H:%M"),
                "end": shift.clock_out_at.astimezone(zone).strftime("%H:%M"),
            },
            source=shift,
            quantity=hours,
            rate=rate,
            amount=hours * rate.amount,
        )

    orders = Order.objects.filter(
        branch_id=period.branch_id,
        status__in=(Order.Status.PAID, Order.Status.COLLECTED),
        created_by__isnull=False,
        paid_at__gte=start,
        paid_at__lt=end,
    ).order_by("paid_at", "pk")
    for order in orders:
        day = order.paid_at.astimezone(zone).date()
        rate = book.rate(user_id=order.created_by_id, kind=PayRate.Kind.SALES_COMMISSION, day=day)
        if rate is None or not order.subtotal:
            continue
        add(
            user_id=order.created_by_id,
            kind=PayLine.Kind.SALES_COMMISSION,
            day=day,
            description=_("%(pct)s%% of sale %(number)s")
            % {"pct": rate.percent, "number": order.number},
            source=order,
            quantity=order.subtotal,
            rate=rate,
            amount=order.subtotal * rate.percent / 100,
        )
    return lines


def shifts_needing_attention(*, period: PayPeriod) -> QuerySet[Shift]:
    """Shifts of the period with a missed clock-out: unpaid until a manager corrects."""
    start, end, _zone = period_bounds(period)
    return Shift.objects.filter(
        branch_id=period.branch_id,
        clock_in_at__gte=start,
        clock_in_at__lt=end,
        clock_out_at__isnull=True,
    ).select_related("user")


def period_totals(*, period: PayPeriod) -> list[dict]:
    """Per person: their total in the period (for review and the CSV)."""
    return list(
        PayLine.objects.filter(period=period)
        .values("user_id", "user__email", "user__first_name", "user__last_name")
        .annotate(total=Sum("amount"))
        .order_by("user__last_name", "user__first_name", "user_id")
    )


def period_total(*, period: PayPeriod) -> Decimal:
    return PayLine.objects.filter(period=period).aggregate(t=Sum("amount"))["t"] or Decimal("0")


def pay_lines_for_user(*, user: User) -> QuerySet[PayLine]:
    return (
        PayLine.objects.filter(user=user)
        .select_related("period", "period__branch")
        .order_by("-period__starts_on", "work_date", "pk")
    )


CSV_COLUMNS = [
    "employee_email",
    "employee_name",
    "branch",
    "period_start",
    "period_end",
    "pay_date",
    "pay_code",
    "description",
    "quantity",
    "rate",
    "amount",
    "currency",
    "source",
]


def payroll_csv(*, period: PayPeriod) -> str:
    """One row per pay line, in the flat "employee, pay code, quantity, rate, amount"
    layout payroll systems import (ISO dates, '.' decimals, a header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    lines = (
        PayLine.objects.filter(period=period)
        .select_related("user", "rate")
        .order_by("user__email", "work_date", "pk")
    )
    for line in lines:
        rate = ""
        if line.rate is not None:
            rate = line.rate.percent if line.rate.kind in PayRate.COMMISSIONS else line.rate.amount
        writer.writerow(
            [
                line.user.email,
                line.user.get_full_name(),
                period.branch.name,
                period.starts_on.isoformat(),
                period.ends_on.isoformat(),
                line.work_date.isoformat(),
                line.kind.upper(),
                _csv_text(
                    line.description if not line.reason else f"{line.description}: {line.reason}"
                ),
                line.quantity,
                rate,
                line.amount,
                period.currency,
                f"{line.source_type}#{line.source_id}" if line.source_id else "",
            ]
        )
    return out.getvalue()


def _csv_text(value: str) -> str:
    """Cells a spreadsheet would run as a formula are quoted as text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value
