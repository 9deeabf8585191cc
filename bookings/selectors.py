"""Read-side questions about bookings: rules in force, eligibility, lists for pages and API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.db import connection, models
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Branch, Member, TrainerProfile
from accounts.tenancy import require_scope
from classes.models import ClassSession, ClassType
from gymsite.db import attach_related, loaded_instance, select_list
from memberships.models import Membership, Plan
from memberships.selectors import (
    Refusal,
    Use,
    member_memberships,
    membership_candidates,
    membership_refusal,
    memberships_ranked,
    plan_branch_ids,
    plan_category_ids,
    plan_lists_attach,
)

from .models import Booking, BookingPolicy

# A policy that is never saved: the defaults when a gym has not set its own rules.
_DEFAULT_POLICY_FIELDS = {
    field.name: field.get_default()
    for field in BookingPolicy._meta.concrete_fields
    if field.name not in ("id", "organisation", "class_type")
}

# Bookings that use up a place in the member's weekly allowance. A waitlist place does
# not: it is only a hope of a place, and counting it stopped a waitlisted member booking
# an open class. Promotion checks the limit instead (``member_eligible_membership`` in
# ``promote_waiting``), so a member over it by then is passed over.
WEEKLY_LIMIT_STATUSES = (
    Booking.Status.BOOKED,
    Booking.Status.ATTENDED,
    Booking.Status.NO_SHOW,
    Booking.Status.LATE_CANCELLED,
)


def policy_for(*, class_type_id: int | None) -> BookingPolicy:
    """The rules for a class type: its own policy, else the organisation's, else defaults."""
    policies = list(
        BookingPolicy.objects.filter(Q(class_type__isnull=True) | Q(class_type_id=class_type_id))
    )
    for policy in policies:
        if policy.class_type_id is not None:
            return policy
    if policies:
        return policies[0]
    return BookingPolicy(**_DEFAULT_POLICY_FIELDS)


def policies_by_class_type(class_type_ids) -> dict[int | None, BookingPolicy]:
    """Policies for many class types in one query (for pages listing many sessions)."""
    ids = set(class_type_ids)
    rows = list(BookingPolicy.objects.filter(Q(class_type__isnull=True) | Q(class_type_id__in=ids)))
    default = next((p for p in rows if p.class_type_id is None), None) or BookingPolicy(
        **_DEFAULT_POLICY_FIELDS
    )
    result = dict.fromkeys(ids, default)
    result.update({p.class_type_id: p for p in rows if p.class_type_id is not None})
    result[None] = default
    return result


# Attendance is taken from half an hour before a class (the door checks people in early).
ATTENDANCE_OPENS_BEFORE = timedelta(minutes=30)


def attendance_open(session: ClassSession, *, now: datetime | None = None) -> bool:
    """Whether attended / no-show can be marked yet: the one rule, for the service that
    refuses and the pages that hide the buttons."""
    return session.starts_at - ATTENDANCE_OPENS_BEFORE <= (now or timezone.now())


def session_local_start(session: ClassSession) -> datetime:
    return session.starts_at.astimezone(ZoneInfo(session.branch.timezone))


@dataclass(frozen=True)
class BookingWindow:
    opens_at: datetime
    closes_at: datetime
    cancel_free_until: datetime
    promotion_until: datetime


def free_cancel_until(
    *, booking: Booking, session: ClassSession, policy: BookingPolicy
) -> datetime:
    """Until when this place can be given up free of charge.

    The rules' cut-off, except for a place the member did not choose inside the late
    window: the class was moved after they booked, or they were moved in from the
    waitlist after the cut-off. Those are free to cancel until the class starts.
    """
    cut_off = booking_window(session=session, policy=policy).cancel_free_until
    moved_since = session.moved_at is not None and session.moved_at > booking.created_at
    promoted_late = booking.promoted_at is not None and booking.promoted_at > cut_off
    return session.starts_at if moved_since or promoted_late else cut_off


def booking_window(*, session: ClassSession, policy: BookingPolicy) -> BookingWindow:
    return BookingWindow(
        opens_at=session.starts_at - timedelta(days=policy.booking_opens_days),
        closes_at=session.starts_at - timedelta(minutes=policy.booking_closes_minutes),
        cancel_free_until=session.starts_at - timedelta(minutes=policy.cancellation_cutoff_minutes),
        promotion_until=session.starts_at - timedelta(minutes=policy.promotion_cutoff_minutes),
    )


class NotEligible(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def _local_week_bounds(session: ClassSession) -> tuple[datetime, datetime]:
    tz = ZoneInfo(session.branch.timezone)
    local = session.starts_at.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=tz)
    return start, end


@dataclass
class BookingContext:
    """Everything a booking request decides on, read in one statement.

    ``memberships`` are all the member's memberships with their plans (and the plans'
    branch and category lists), ranked for the class's local date by
    ``memberships.selectors.membership_rank``: the first, ``membership``, decides.
    ``booking_id`` is a fresh primary key from the bookings sequence, so the booking
    and its confirmation email can be written together in one statement.
    """

    session: ClassSession
    policy: BookingPolicy
    member: Member | None
    memberships: list[Membership]
    booking_id: int

    @property
    def membership(self) -> Membership | None:
        return self.memberships[0] if self.memberships else None

    @property
    def plan_branch_ids(self) -> list[int]:
        return plan_branch_ids(self.membership.plan) if self.membership else []

    @property
    def plan_category_ids(self) -> list[int]:
        return plan_category_ids(self.membership.plan) if self.membership else []


# The columns a booking reads: what the rules, the booking row, its email and the
# API's reply use (the rest stay deferred; test_booking_post_is_one_read_and_one_write
# fails if the booking path touches one). The policy is read whole.
_CONTEXT_FIELDS = {
    "s": (
        ClassSession,
        (
            "id",
            "organisation_id",
            "branch_id",
            "class_type_id",
            "room_id",
            "trainer_id",
            "occurrence_date",
            "starts_at",
            "ends_at",
            "capacity",
            "booked_count",
            "waitlist_count",
            "status",
        ),
    ),
    "b": (Branch, ("id", "organisation_id", "name", "timezone")),
    "ct": (ClassType, ("id", "organisation_id", "name", "category_id")),
    "tp": (TrainerProfile, ("id", "organisation_id", "display_name")),
    "pol": (BookingPolicy, None),
    "mem": (
        Member,
        (
            "id",
            "organisation_id",
            "user_id",
            "first_name",
            "last_name",
            "email",
            "payer_id",
            "status",
        ),
    ),
}


# A member's memberships and their plans, as a JSON array of rows (one per
# membership) in the same statement: a member holds a few (a renewal extends its
# row), and Python ranks them (``memberships.selectors.membership_rank``).
_MEMBERSHIP_ATTNAMES = select_list(
    Membership,
    "m",
    (
        "id",
        "organisation_id",
        "member_id",
        "payer_id",
        "plan_id",
        "branch_id",
        "status",
        "start_date",
        "end_date",
        "credits_remaining",
        "entries_remaining",
    ),
)
_PLAN_ATTNAMES = select_list(
    Plan,
    "p",
    (
        "id",
        "organisation_id",
        "name",
        "kind",
        "status",
        "valid_from",
        "valid_until",
        "access_from",
        "access_until",
        "weekly_attendance_limit",
    ),
)


# JSON has no dates, times or decimals: what turns each back into the field's value
# (numbers and text come back as they are).
_JSON_TYPES = (
    (models.DateTimeField, datetime.fromisoformat),
    (models.DateField, date.fromisoformat),
    (models.TimeField, time.fromisoformat),
    (models.DecimalField, Decimal),
)


@cache
def _from_json(model, attnames: tuple[str, ...]) -> tuple:
    """Per column of ``model`` read from JSON, its converter (or None)."""
    fields = [model._meta.get_field(name) for name in attnames]
    return tuple(
        next((convert for kind, convert in _JSON_TYPES if isinstance(field, kind)), None)
        for field in fields
    )


def _json_instance(model, attnames: tuple[str, ...], values) -> models.Model:
    values = [
        convert(value) if convert is not None and value is not None else value
        for convert, value in zip(_from_json(model, attnames), values, strict=True)
    ]
    return loaded_instance(model, attnames, values, connection.alias)


def _memberships_from_json(rows) -> list[Membership]:
    membership_names, plan_names = _MEMBERSHIP_ATTNAMES[0], _PLAN_ATTNAMES[0]
    split = len(membership_names)
    end = split + len(plan_names)
    memberships = []
    for row in rows or ():
        membership = _json_instance(Membership, membership_names, row[:split])
        plan = _json_instance(Plan, plan_names, row[split:end])
        # array_agg over no rows is NULL: a plan open to every branch / category.
        plan_lists_attach(plan, branch_ids=row[end] or (), category_ids=row[end + 1] or ())
        attach_related(membership, plan=plan)
        memberships.append(membership)
    return memberships


@cache
def _context_query(*, by_member: bool, branch_scoped: bool) -> tuple[str, list]:
    """The booking read's SQL (built once per variant) and, per alias, the attnames
    its columns load, in order."""
    loads, select = [], []
    for alias, (model, attnames) in _CONTEXT_FIELDS.items():
        names, sql = select_list(model, alias, attnames)
        loads.append((model, names))
        select.append(sql)
    if by_member:
        whose = "mem.id = %(member)s"
    else:
        whose = "mem.user_id = %(user)s AND mem.status = %(active)s"
    branch_filter = "AND s.branch_id = ANY(%(branches)s)" if branch_scoped else ""
    query = f"""
        SELECT {", ".join(select)}, ms.rows,
               nextval(pg_get_serial_sequence('{Booking._meta.db_table}', 'id'))
          FROM {ClassSession._meta.db_table} s
          JOIN {Branch._meta.db_table} b ON b.id = s.branch_id
          JOIN {ClassType._meta.db_table} ct ON ct.id = s.class_type_id
          LEFT JOIN {TrainerProfile._meta.db_table} tp ON tp.id = s.trainer_id
          LEFT JOIN LATERAL (
                SELECT * FROM {BookingPolicy._meta.db_table} bp
                 WHERE bp.organisation_id = s.organisation_id
                   AND (bp.class_type_id = s.class_type_id OR bp.class_type_id IS NULL)
                 ORDER BY bp.class_type_id NULLS LAST
                 LIMIT 1
          ) pol ON true
          LEFT JOIN {Member._meta.db_table} mem
                 ON mem.organisation_id = s.organisation_id AND {whose}
          LEFT JOIN LATERAL (
                SELECT json_agg(json_build_array(
                           {_MEMBERSHIP_ATTNAMES[1]}, {_PLAN_ATTNAMES[1]},
                           (SELECT array_agg(pb.branch_id)
                              FROM {Plan.branches.through._meta.db_table} pb
                             WHERE pb.plan_id = p.id),
                           (SELECT array_agg(pc.classcategory_id)
                              FROM {Plan.class_categories.through._meta.db_table} pc
                             WHERE pc.plan_id = p.id))) AS rows
                  FROM {Membership._meta.db_table} m
                  JOIN {Plan._meta.db_table} p ON p.id = m.plan_id
                 WHERE m.organisation_id = s.organisation_id AND m.member_id = mem.id
          ) ms ON true
         WHERE s.id = %(session)s AND s.organisation_id = %(organisation)s {branch_filter}
    """  # noqa: S608 (table and column names come from the models; values are parameters)
    return query, loads


@cache
def _default_policy() -> BookingPolicy:
    """The defaults when a gym has not set its own rules (never saved; read only)."""
    return BookingPolicy(**_DEFAULT_POLICY_FIELDS)


def booking_context(
    *, session_id: int, member: Member | None = None, user=None
) -> BookingContext | None:
    """The session (with branch, class type, trainer), the rules in force, the member
    (``member``, or the signed-in ``user``'s active member record) and their
    memberships, ranked, with their plans' branches and categories: one round trip.

    Booking is the hottest write of the platform (hundreds of members at once when a
    popular class opens), so this is hand-written SQL rather than five ORM queries,
    reading only the columns a booking uses. It runs outside the ORM's tenant hook,
    so the scope is applied here explicitly, on every table it reads. The memberships
    are ranked in Python by the one rule (``memberships.selectors.membership_rank``).
    """
    scope = require_scope()
    params: dict = {
        "session": session_id,
        "organisation": scope.organisation_id,
    }
    if member is not None:
        params["member"] = member.pk
    else:
        params.update(user=user.pk, active=Member.Status.ACTIVE)
    if scope.branch_ids is not None:
        params["branches"] = sorted(scope.branch_ids)
    query, loads = _context_query(
        by_member=member is not None, branch_scoped=scope.branch_ids is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, attnames in loads:
        end = start + len(attnames)
        instances.append(_load(model, attnames, row[start:end]))
        start = end
    session, branch, class_type, trainer, policy, loaded_member = instances
    membership_rows, booking_id = row[start:]
    attach_related(session, branch=branch, class_type=class_type, trainer=trainer)
    return BookingContext(
        session=session,
        policy=policy or _default_policy(),
        member=loaded_member,
        memberships=memberships_ranked(
            _memberships_from_json(membership_rows), on=session_local_start(session).date()
        ),
        booking_id=booking_id,
    )


def _load(model, attnames: tuple[str, ...], values) -> models.Model | None:
    """A model instance from selected columns; None for an outer join that found no row."""
    if values[0] is None:
        return None
    return loaded_instance(model, attnames, values, connection.alias)


def member_eligible_membership(
    *,
    member: Member,
    session: ClassSession,
    exclude_booking_id: int | None = None,
    require_credit: bool = True,
    include_weekly_limit: bool = True,
) -> Membership:
    """The membership a member books this session on, or ``NotEligible`` saying why not.

    Checks status (active: not frozen, past due, suspended...), branch, class
    category, off-peak hours, the plan's weekly class limit and credits/entries left.
    """
    memberships = []
    if member.status == Member.Status.ACTIVE:
        memberships = member_memberships(member_id=member.pk)
    membership = membership_allowing(
        member=member, session=session, memberships=memberships, require_credit=require_credit
    )
    plan = membership.plan
    if include_weekly_limit and plan.weekly_attendance_limit is not None:
        check_weekly_limit(
            member=member,
            session=session,
            limit=plan.weekly_attendance_limit,
            exclude_booking_id=exclude_booking_id,
        )
    return membership


def membership_allowing(
    *,
    member: Member,
    session: ClassSession,
    memberships: list[Membership],
    require_credit: bool = True,
) -> Membership:
    """The membership this class is booked on, on data already read: the deciding one
    if the plan rules (``memberships.selectors.membership_refusal``) allow the class,
    else the next of ``membership_candidates`` that they allow (a day pass bought for
    another branch must not stop a member booking at home), else ``NotEligible`` with
    the deciding membership's reason. Everything but the weekly limit (which needs a
    count under the membership's lock).
    """
    if member.status != Member.Status.ACTIVE:
        raise NotEligible(_("This member is archived."), "member_archived")
    local_start = session_local_start(session)
    on = local_start.date()
    use = Use(
        branch_id=session.branch_id,
        on=on,
        local_time=local_start.time(),
        for_class=True,
        category_id=session.class_type.category_id,
        needs_credit=require_credit,
        needs_entry=True,
    )
    first = None
    for membership in membership_candidates(memberships_ranked(memberships, on=on), on=on):
        refusal = membership_refusal(membership, use=use)
        if refusal is None:
            return membership
        first = first or refusal
    refusal = first or Refusal.NO_MEMBERSHIP
    raise NotEligible(str(_REFUSAL_MESSAGES.get(refusal, _NOT_ACTIVE)), refusal.value)


_NOT_ACTIVE = gettext_lazy("Your membership is not active on that date.")
# What a member is told for each refusal of the plan rules (the code is the refusal's).
_REFUSAL_MESSAGES = {
    Refusal.NO_MEMBERSHIP: gettext_lazy("You need a membership to book classes."),
    Refusal.FROZEN: gettext_lazy("Your membership is frozen on that date."),
    Refusal.PAST_DUE: gettext_lazy(
        "Your membership has an overdue payment: please settle it to book."
    ),
    Refusal.TICKET_NOT_YET_VALID: _NOT_ACTIVE,
    Refusal.TICKET_EXPIRED: _NOT_ACTIVE,
    Refusal.BRANCH: gettext_lazy("Your plan does not include this branch."),
    Refusal.CATEGORY: gettext_lazy("Your plan does not include this kind of class."),
    Refusal.TIME: gettext_lazy("Your plan does not include classes at this time."),
    Refusal.NO_CREDITS: gettext_lazy("You have no class credits left."),
    Refusal.NO_ENTRIES: gettext_lazy("You have no entries left on your ticket."),
}


def check_weekly_limit(
    *, member: Member, session: ClassSession, limit: int, exclude_booking_id: int | None = None
) -> None:
    """``NotEligible`` when the member already has ``limit`` classes in the session's
    local week (Monday to Sunday in the branch's time zone)."""
    week_start, week_end = _local_week_bounds(session)
    used = (
        Booking.objects.filter(
            member=member,
            status__in=WEEKLY_LIMIT_STATUSES,
            session__starts_at__gte=week_start,
            session__starts_at__lt=week_end,
        )
        .exclude(pk=exclude_booking_id)
        .count()
    )
    if used >= limit:
        raise NotEligible(
            _("You have reached your plan's limit of %(n)s classes a week.") % {"n": limit},
            "weekly_limit",
        )


def waitlist_position(*, booking: Booking) -> int | None:
    """1 for the first in line; None when the booking is not on the waitlist."""
    if booking.status != Booking.Status.WAITLISTED:
        return None
    ahead = Booking.objects.filter(
        session_id=booking.session_id,
        status=Booking.Status.WAITLISTED,
        arrival__lt=booking.arrival,
    ).count()
    return ahead + 1


def waitlist_positions(bookings) -> dict[int, int]:
    """Positions of many waitlisted bookings in one query."""
    waiting = [b for b in bookings if b.status == Booking.Status.WAITLISTED]
    if not waiting:
        return {}
    session_ids = {b.session_id for b in waiting}
    queues: dict[int, list[int]] = {}
    for pk, session_id in (
        Booking.objects.filter(session_id__in=session_ids, status=Booking.Status.WAITLISTED)
        .order_by("session_id", "arrival")
        .values_list("pk", "session_id")
    ):
        queues.setdefault(session_id, []).append(pk)
    positions = {}
    for pks in queues.values():
        for index, pk in enumerate(pks, start=1):
            positions[pk] = index
    return positions


def session_roster(*, session: ClassSession) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(session=session)
        .exclude(status__in=[Booking.Status.CANCELLED])
        .select_related("member", "member__user", "booked_by")
        .order_by("status", "arrival")
    )


def sessions_for_schedule(
    *,
    start: datetime,
    end: datetime,
    branch_id: int | None = None,
    class_type_id: int | None = None,
    trainer_id: int | None = None,
    include_cancelled: bool = True,
) -> QuerySet[ClassSession]:
    sessions = ClassSession.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related(
        "branch", "class_type", "class_type__category", "trainer", "room"
    )
    if branch_id:
        sessions = sessions.filter(branch_id=branch_id)
    if class_type_id:
        sessions = sessions.filter(class_type_id=class_type_id)
    if trainer_id:
        sessions = sessions.filter(trainer_id=trainer_id)
    if not include_cancelled:
        sessions = sessions.filter(status=ClassSession.Status.SCHEDULED)
    return sessions.order_by("starts_at", "pk")


def household_bookings_by_session(*, members, session_ids) -> dict[int, list[Booking]]:
    """The active bookings of these members for each of these sessions, in one query."""
    rows = (
        Booking.objects.filter(
            member__in=members, session_id__in=session_ids, status__in=Booking.ACTIVE
        )
        .select_related("member")
        .order_by("session_id", "pk")
    )
    found: dict[int, list[Booking]] = {}
    for booking in rows:
        found.setdefault(booking.session_id, []).append(booking)
    return found


def member_bookings_by_session(*, members, session_ids) -> dict[int, Booking]:
    """One active booking (if any) of these members for each of these sessions (the
    API's ``my_booking``; the portal shows them all: ``household_bookings_by_session``)."""
    return {
        session_id: bookings[0]
        for session_id, bookings in household_bookings_by_session(
            members=members, session_ids=session_ids
        ).items()
    }


def member_bookings(*, members, upcoming: bool | None = None) -> QuerySet[Booking]:
    now = timezone.now()
    bookings = Booking.objects.filter(member__in=members).select_related(
        "member",
        "session",
        "session__branch",
        "session__class_type",
        "session__trainer",
        "session__room",
    )
    if upcoming is True:
        return bookings.filter(session__ends_at__gte=now).order_by("session__starts_at", "pk")
    if upcoming is False:
        return bookings.filter(session__ends_at__lt=now).order_by("-session__starts_at", "-pk")
    return bookings.order_by("-session__starts_at", "-pk")


def trainer_sessions(*, trainer, start: datetime, end: datetime) -> QuerySet[ClassSession]:
    return (
        ClassSession.objects.filter(trainer=trainer, starts_at__gte=start, starts_at__lt=end)
        .select_related("branch", "class_type", "room")
        .annotate(
            active_bookings=Count("bookings", filter=Q(bookings__status__in=Booking.ACTIVE)),
        )
        .order_by("starts_at")
    )


def prefetch_active_bookings() -> Prefetch:
    return Prefetch(
        "bookings",
        queryset=Booking.objects.filter(status__in=Booking.ACTIVE).select_related("member"),
        to_attr="active_bookings_list",
    )


def rules_summary(*, session: ClassSession, policy: BookingPolicy) -> list[str]:
    """The rules that apply to booking this session, in words, for the confirmation."""
    tz = ZoneInfo(session.branch.timezone)
    window = booking_window(session=session, policy=policy)
    free_until = window.cancel_free_until.astimezone(tz)
    penalty = {
        BookingPolicy.Penalty.FORFEIT: _("a class credit used for it is not returned"),
        BookingPolicy.Penalty.FEE: _(
            "a class credit used for it is not returned and a fee of %(fee)s %(cur)s is charged"
        )
        % {"fee": policy.late_cancel_fee, "cur": policy.currency},
        BookingPolicy.Penalty.NONE: _("there is no penalty"),
    }[policy.late_cancel_penalty]
    rules = [
        _("Free cancellation until %(when)s; after that %(penalty)s.")
        % {"when": dateformat.format(free_until, "D j M H:i"), "penalty": penalty},
    ]
    if policy.no_show_penalty == BookingPolicy.Penalty.FEE:
        rules.append(
            _("Not turning up costs a fee of %(fee)s %(cur)s.")
            % {"fee": policy.no_show_fee, "cur": policy.currency}
        )
    if policy.waitlist_enabled:
        rules.append(
            _(
                "If the class is full you can join the waitlist until %(when)s (a class credit, "
                "if your plan uses them, is held and returned if you leave or are not moved "
                "in). You are moved in automatically until then; if that happens after the "
                "free-cancellation time, you can still cancel free of charge until the class "
                "starts."
            )
            % {"when": dateformat.format(window.promotion_until.astimezone(tz), "D j M H:i")}
        )
    return rules


def default_policy() -> BookingPolicy:
    """The organisation's rules without a class type (or the model defaults)."""
    return BookingPolicy.objects.filter(class_type__isnull=True).first() or BookingPolicy(
        **_DEFAULT_POLICY_FIELDS
    )
