"""The assistant's tools: the only way either engine (or an MCP client) reaches data.

Each tool runs as the caller, inside the caller's tenant scope (a member sees the
gym; branch staff only their branches, as in the API), and answers from our own
selectors. A tool that changes something never does it when called: it returns a
confirmation request with a signed, expiring token, and only ``confirm_action``
(the person pressing "Confirm") calls the service the portal uses.

Results carry no personal data of anyone but the caller (and their household):
staff tools name members by member number only, never by name, email or phone, and
no tool returns payment methods or provider ids.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core import signing
from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from accounts.models import Branch, Member, Organisation, TrainerProfile, User
from accounts.selectors import branch_list, household_members
from billing import selectors as billing_selectors
from billing.models import Invoice
from bookings import selectors as booking_selectors
from bookings import services as booking_services
from bookings.models import Booking
from classes.models import ClassSession
from gymsite.errors import ServiceError
from memberships import selectors as membership_selectors
from reports.dashboard import dashboard_figures
from training import selectors as training_selectors

from . import selectors

CONFIRM_SALT = "assistant.confirm"
CONFIRM_MAX_AGE = 600
SEARCH_DAYS = 14
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TIMES_OF_DAY = {
    "morning": (0, 12),
    "lunchtime": (11, 14),
    "afternoon": (12, 17),
    "evening": (17, 24),
}


class ToolRefused(Exception):
    """The call is not allowed or its input is wrong; the message goes back to the engine."""


@dataclass
class Caller:
    """Who asks, as which role, in which gym; the scope the tools run in is set outside."""

    user: User
    organisation: Organisation
    role: str  # "member", "trainer" or "staff"
    member: Member | None = None
    trainer: TrainerProfile | None = None
    branch_ids: frozenset[int] | None = None  # staff of some branches only
    now: datetime | None = None

    @property
    def home_branch_id(self) -> int | None:
        if self.member is not None:
            return self.member.home_branch_id
        if self.branch_ids and len(self.branch_ids) == 1:
            return next(iter(self.branch_ids))
        return None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict
    roles: frozenset[str]
    run: Callable[[Caller, dict], dict]
    # For tools that change something: runs after the person confirmed.
    action: Callable[[Caller, dict], dict] | None = None
    # Result fields kept out of the review log (amounts a member owes).
    private_fields: tuple[str, ...] = ()

    def schema(self) -> dict:
        return {"type": "function", "function": self.openai_function()}

    def openai_function(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass
class ToolCall:
    name: str
    arguments: dict
    result: dict
    refused: bool = False
    extra: dict = field(default_factory=dict)


# --- formatting ----------------------------------------------------------------------


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _day_text(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} {day:%B} {day.year}"


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{Decimal(amount):.2f}"


def _session_row(session: ClassSession, mine: Booking | None = None) -> dict:
    start = _local(session.starts_at, session.branch.timezone)
    end = _local(session.ends_at, session.branch.timezone)
    row = {
        "session_id": session.pk,
        "class": session.class_type.name,
        "category": session.class_type.category.name if session.class_type.category else None,
        "branch": session.branch.name,
        "date": start.date().isoformat(),
        "day": _day_text(start.date()),
        "time": f"{start:%H:%M}",
        "ends": f"{end:%H:%M}",
        "trainer": session.trainer.display_name if session.trainer else None,
        "places_left": session.places_left,
        "capacity": session.capacity,
        "waitlist": session.waitlist_count,
        "full": session.places_left == 0,
    }
    if session.is_cancelled:
        row["cancelled"] = True
    if mine is not None:
        row["my_booking"] = {"booking_id": mine.pk, "status": mine.status}
    return row


def _branch_named(name: str | None) -> Branch | None:
    if not name:
        return None
    wanted = str(name).strip().lower()
    for branch in Branch.objects.filter(is_active=True):
        if wanted in (branch.name.lower(), branch.slug.lower()) or wanted in branch.name.lower():
            return branch
    raise ToolRefused(_("There is no branch called %(name)s in this gym.") % {"name": name})


def _member_branch_ids(caller: Caller) -> list[int] | None:
    """The branches the member's deciding membership opens (None: any branch)."""
    if caller.member is None:
        return None
    today = _local(caller.now, caller.organisation.default_timezone).date()
    membership = membership_selectors.membership_deciding(member=caller.member, on=today)
    if membership is None:
        return None
    ids = [
        b.pk
        for b in Branch.objects.filter(is_active=True)
        if membership_selectors.plan_allows_branch(plan=membership.plan, branch_id=b.pk)
    ]
    return ids


def _parse_day(value: str | None, today: date) -> date | set[int] | None:
    if not value:
        return None
    text = str(value).strip().lower()
    if text in ("today", "tonight"):
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text in ("weekend", "this weekend"):
        return {5, 6}
    for index, name in enumerate(WEEKDAYS):
        if text in (name, name[:3]):
            return {index}
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ToolRefused(
            _("Say the day as today, tomorrow, a weekday or a date like 2026-12-05.")
        ) from None


# --- member tools --------------------------------------------------------------------


def find_classes(caller: Caller, args: dict) -> dict:
    now = caller.now
    branch = _branch_named(args.get("branch"))
    allowed = _member_branch_ids(caller)
    if branch is not None and allowed is not None and branch.pk not in allowed:
        raise ToolRefused(
            _("Your membership does not include the %(branch)s branch.") % {"branch": branch.name}
        )
    sessions = ClassSession.objects.filter(
        status=ClassSession.Status.SCHEDULED,
        starts_at__gt=now,
        starts_at__lt=now + timedelta(days=SEARCH_DAYS),
    ).select_related("branch", "class_type", "class_type__category", "trainer")
    if branch is not None:
        sessions = sessions.filter(branch=branch)
    elif allowed is not None:
        sessions = sessions.filter(branch_id__in=allowed)
    kind = (args.get("class_type") or "").strip()
    if kind:
        sessions = sessions.filter(
            Q(class_type__name__icontains=kind) | Q(class_type__category__name__icontains=kind)
        )
    # Checked up front so a bad day is refused even when nothing would match.
    _parse_day(args.get("day"), _local(now, caller.organisation.default_timezone).date())
    day = time_window = None
    when = args.get("time_of_day")
    if when:
        if when not in TIMES_OF_DAY:
            raise ToolRefused(_("Time of day is morning, lunchtime, afternoon or evening."))
        time_window = TIMES_OF_DAY[when]
    after = args.get("after_hour")
    before = args.get("before_hour")
    min_places = int(args.get("min_places") or 0)
    limit = max(1, min(int(args.get("limit") or 8), 20))
    chosen = []
    for session in sessions.order_by("starts_at", "pk")[:400]:
        local = _local(session.starts_at, session.branch.timezone)
        day = _parse_day(args.get("day"), _local(now, session.branch.timezone).date())
        if isinstance(day, date) and local.date() != day:
            continue
        if isinstance(day, set) and local.weekday() not in day:
            continue
        if time_window and not (time_window[0] <= local.hour < time_window[1]):
            continue
        if after is not None and local.hour < int(after):
            continue
        if before is not None and local.hour >= int(before):
            continue
        if session.places_left < min_places:
            continue
        chosen.append(session)
        if len(chosen) >= limit:
            break
    mine = {}
    if caller.member is not None and chosen:
        mine = booking_selectors.member_bookings_by_session(
            members=household_members(member=caller.member), session_ids=[s.pk for s in chosen]
        )
    rows = [_session_row(s, mine.get(s.pk)) for s in chosen]
    # The words searched for, echoed (not the numbers: a count in an answer must be a
    # class's own, never an hour or a limit the engine chose).
    searched = {
        k: args[k] for k in ("class_type", "day", "time_of_day") if args.get(k) not in (None, "")
    }
    if branch is not None:
        searched["branch"] = branch.name
    return {"searched": searched, "classes": rows, "count": len(rows)}


def my_bookings(caller: Caller, args: dict) -> dict:
    if caller.member is None:
        raise ToolRefused(_("Only members have bookings."))
    bookings = booking_selectors.member_bookings(
        members=household_members(member=caller.member), upcoming=True
    ).filter(status__in=[Booking.Status.BOOKED, Booking.Status.WAITLISTED])[:20]
    rows = []
    positions = booking_selectors.waitlist_positions(list(bookings))
    for booking in bookings:
        row = _session_row(booking.session)
        row.pop("my_booking", None)
        row.update(
            {
                "booking_id": booking.pk,
                "status": booking.status,
                "for": _("you")
                if booking.member_id == caller.member.pk
                else booking.member.first_name,
            }
        )
        if booking.status == Booking.Status.WAITLISTED:
            row["waitlist_position"] = positions.get(booking.pk)
        rows.append(row)
    return {"bookings": rows, "count": len(rows)}


def _session_for_member(caller: Caller, session_id) -> ClassSession:
    try:
        session_id = int(session_id)
    except (TypeError, ValueError):
        raise ToolRefused(_("Give the session_id of a class from find_classes.")) from None
    session = (
        ClassSession.objects.filter(pk=session_id)
        .select_related("branch", "class_type", "class_type__category", "trainer")
        .first()
    )
    if session is None:
        raise ToolRefused(_("No such class."))
    return session


def _my_booking(caller: Caller, booking_id, statuses) -> Booking:
    if caller.member is None:
        raise ToolRefused(_("Only members have bookings."))
    try:
        booking_id = int(booking_id)
    except (TypeError, ValueError):
        raise ToolRefused(_("Give the booking_id from my_bookings.")) from None
    booking = (
        booking_selectors.member_bookings(members=household_members(member=caller.member))
        .filter(pk=booking_id, status__in=statuses)
        .first()
    )
    if booking is None:
        # Another member's booking reads exactly like a missing one.
        raise ToolRefused(_("You have no such booking."))
    return booking


def _confirmation(caller: Caller, tool: str, args: dict, summary: str, details: dict) -> dict:
    token = signing.dumps(
        {
            "t": tool,
            "a": args,
            "u": caller.user.pk,
            "o": caller.organisation.pk,
            "r": caller.role,
            # Each proposal its own token: used once, whatever was proposed before.
            "n": secrets.token_urlsafe(8),
        },
        salt=CONFIRM_SALT,
        compress=True,
    )
    return {
        "confirmation_required": True,
        "action": tool,
        "summary": summary,
        "details": details,
        "confirmation_token": token,
        "expires_in_seconds": CONFIRM_MAX_AGE,
    }


def _check_eligible(caller: Caller, session: ClassSession) -> None:
    """Say now what the booking service would refuse (it checks again at confirmation)."""
    if caller.member is None:
        raise ToolRefused(_("Only members can book."))
    try:
        booking_selectors.member_eligible_membership(member=caller.member, session=session)
    except booking_selectors.NotEligible as exc:
        raise ToolRefused(exc.message) from None


def book_class(caller: Caller, args: dict) -> dict:
    session = _session_for_member(caller, args.get("session_id"))
    _check_eligible(caller, session)
    row = _session_row(session)
    if session.places_left == 0:
        summary = _("%(cls)s at %(branch)s on %(day)s at %(time)s is full: join its waitlist?")
    else:
        summary = _("Book %(cls)s at %(branch)s on %(day)s at %(time)s?")
    summary %= {
        "cls": row["class"],
        "branch": row["branch"],
        "day": row["day"],
        "time": row["time"],
    }
    return _confirmation(caller, "book_class", {"session_id": session.pk}, summary, row)


def join_waitlist(caller: Caller, args: dict) -> dict:
    session = _session_for_member(caller, args.get("session_id"))
    _check_eligible(caller, session)
    row = _session_row(session)
    if session.places_left > 0:
        raise ToolRefused(
            _("That class still has %(n)s places left: book it instead.")
            % {"n": session.places_left}
        )
    summary = _("Join the waitlist for %(cls)s at %(branch)s on %(day)s at %(time)s?") % {
        "cls": row["class"],
        "branch": row["branch"],
        "day": row["day"],
        "time": row["time"],
    }
    return _confirmation(caller, "join_waitlist", {"session_id": session.pk}, summary, row)


def _do_book(caller: Caller, args: dict) -> dict:
    booking = booking_services.booking_create(
        session=int(args["session_id"]), member=None, actor=caller.user, now=caller.now
    )
    row = _session_row(
        ClassSession.objects.select_related("branch", "class_type", "trainer").get(
            pk=booking.session_id
        )
    )
    waiting = booking.status == Booking.Status.WAITLISTED
    position = booking_selectors.waitlist_position(booking=booking) if waiting else None
    template = (
        _("You are number %(pos)s on the waitlist for %(cls)s at %(branch)s, %(day)s %(time)s.")
        if waiting
        else _("Booked: %(cls)s at %(branch)s, %(day)s %(time)s.")
    )
    return {
        "done": True,
        "booking_id": booking.pk,
        "status": booking.status,
        "waitlist_position": position,
        "message": template
        % {
            "pos": position,
            "cls": row["class"],
            "branch": row["branch"],
            "day": row["day"],
            "time": row["time"],
        },
        "class": row,
    }


def _cancel_request(caller: Caller, args: dict, *, waitlist: bool) -> dict:
    statuses = [Booking.Status.WAITLISTED] if waitlist else [Booking.Status.BOOKED]
    booking = _my_booking(caller, args.get("booking_id"), statuses)
    session = booking.session
    row = _session_row(session)
    details = dict(row, booking_id=booking.pk)
    if waitlist:
        summary = _("Leave the waitlist for %(cls)s at %(branch)s on %(day)s at %(time)s?")
    else:
        policy = booking_selectors.policy_for(class_type_id=session.class_type_id)
        free_until = booking_selectors.free_cancel_until(
            booking=booking, session=session, policy=policy
        )
        late = caller.now > free_until
        details["late_cancellation"] = late
        details["free_cancellation_until"] = f"{_local(free_until, session.branch.timezone):%H:%M}"
        if late and policy.late_cancel_penalty == policy.Penalty.FEE:
            details["late_cancel_fee"] = _money(policy.late_cancel_fee)
        summary = (
            _("Cancel %(cls)s at %(branch)s on %(day)s at %(time)s? It is a late cancellation.")
            if late
            else _("Cancel %(cls)s at %(branch)s on %(day)s at %(time)s?")
        )
    summary %= {
        "cls": row["class"],
        "branch": row["branch"],
        "day": row["day"],
        "time": row["time"],
    }
    name = "leave_waitlist" if waitlist else "cancel_booking"
    return _confirmation(caller, name, {"booking_id": booking.pk}, summary, details)


def cancel_booking(caller: Caller, args: dict) -> dict:
    return _cancel_request(caller, args, waitlist=False)


def leave_waitlist(caller: Caller, args: dict) -> dict:
    return _cancel_request(caller, args, waitlist=True)


def _do_cancel(caller: Caller, args: dict) -> dict:
    # Re-checked at confirmation: the booking must still be the caller's household's.
    _my_booking(caller, args["booking_id"], [Booking.Status.BOOKED, Booking.Status.WAITLISTED])
    booking = booking_services.booking_cancel(
        booking=int(args["booking_id"]), actor=caller.user, now=caller.now
    )
    row = _session_row(
        ClassSession.objects.select_related("branch", "class_type", "trainer").get(
            pk=booking.session_id
        )
    )
    return {
        "done": True,
        "booking_id": booking.pk,
        "status": booking.status,
        "message": _("Cancelled: %(cls)s at %(branch)s, %(day)s %(time)s.")
        % {"cls": row["class"], "branch": row["branch"], "day": row["day"], "time": row["time"]},
        "class": row,
    }


def plans_and_prices(caller: Caller, args: dict) -> dict:
    branch = _branch_named(args.get("branch"))
    rows = []
    for plan in membership_selectors.plans_on_sale(branch_id=branch.pk if branch else None):
        rows.append(
            {
                "plan": plan.name,
                "kind": plan.get_kind_display(),
                "price": _money(plan.price),
                "currency": plan.currency,
                "billed_every": (
                    f"{plan.interval_count} {plan.get_billing_interval_display().lower()}"
                    if plan.is_recurring and plan.billing_interval
                    else None
                ),
                "intro_price": _money(plan.intro_price),
                "signup_fee": _money(plan.signup_fee) if plan.signup_fee else None,
                "credits": plan.credits,
                "description": plan.description[:200],
            }
        )
    return {"plans": rows, "branch": branch.name if branch else None}


def opening_hours(caller: Caller, args: dict) -> dict:
    branch = _branch_named(args.get("branch"))
    branches = [branch] if branch else list(branch_list())
    rows = []
    for item in branches:
        hours = sorted(item.opening_hours.all(), key=lambda h: (h.weekday, h.opens_at))
        rows.append(
            {
                "branch": item.name,
                "address": f"{item.address_line}, {item.city}",
                "hours": [
                    {
                        "day": WEEKDAYS[h.weekday].capitalize(),
                        "opens": f"{h.opens_at:%H:%M}",
                        "closes": f"{h.closes_at:%H:%M}",
                    }
                    for h in hours
                ],
            }
        )
    return {"branches": rows}


def my_membership(caller: Caller, args: dict) -> dict:
    if caller.member is None:
        raise ToolRefused(_("Only members have a membership."))
    today = _local(caller.now, caller.organisation.default_timezone).date()
    membership = membership_selectors.membership_deciding(member=caller.member, on=today)
    open_invoices = billing_selectors.invoices_for_payer(payer=caller.member).filter(
        status=Invoice.Status.OPEN
    )
    owed = sum((invoice.amount_due for invoice in open_invoices), Decimal("0"))
    unbilled = billing_selectors.unbilled_charges_for(payer=caller.member).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    result = {
        "membership": None,
        "owed": _money(owed),
        "open_invoices": len(open_invoices),
        "not_yet_invoiced": _money(unbilled),
        "currency": caller.organisation.currency,
    }
    if membership is not None:
        result["membership"] = {
            "plan": membership.plan.name,
            "status": membership.get_status_display(),
            "started": membership.start_date.isoformat(),
            "ends": membership.end_date.isoformat() if membership.end_date else None,
            "renews": membership.auto_renew,
            "credits_left": membership.credits_remaining,
            "entries_left": membership.entries_remaining,
        }
    return result


def my_training_plan(caller: Caller, args: dict) -> dict:
    """The plan assigned to the member today and today's workout from it, as the
    training app shows it (its privacy rule: the member's own data)."""
    if caller.member is None:
        raise ToolRefused(_("Only members have a training plan."))
    workout = training_selectors.today_workout(member=caller.member)
    assignment = workout.assignment
    if assignment is None:
        return {"plan": None}
    return {
        "plan": assignment.plan.name,
        "from": assignment.starts_on.isoformat(),
        "until": assignment.ends_on.isoformat() if assignment.ends_on else None,
        "today": workout.day.name if workout.day else None,
        "exercises": [
            {"exercise": planned.item.exercise.name, "prescription": planned.summary}
            for planned in workout.exercises
        ],
    }


# --- staff tools ---------------------------------------------------------------------


def today_figures(caller: Caller, args: dict) -> dict:
    figures = dashboard_figures(currency=caller.organisation.currency)
    return {
        "figures": [
            {"figure": str(label), "value": _money(value) if isinstance(value, Decimal) else value}
            for label, value in figures["kpis"]
        ],
        "currency": caller.organisation.currency,
    }


def at_risk_members(caller: Caller, args: dict) -> dict:
    days = max(1, min(int(args.get("days") or selectors.AT_RISK_DAYS), 90))
    rows = selectors.members_at_risk(now=caller.now, days=days)
    return {"days_without_visit": days, "members": rows, "count": len(rows)}


def member_status(caller: Caller, args: dict) -> dict:
    try:
        member_id = int(args.get("member_number"))
    except (TypeError, ValueError):
        raise ToolRefused(_("Give the member number.")) from None
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise ToolRefused(_("No member with that number in this gym."))
    today = _local(caller.now, caller.organisation.default_timezone).date()
    membership = membership_selectors.membership_deciding(member=member, on=today)
    last = selectors.members_last_visit(member_id=member.pk)
    upcoming = booking_selectors.member_bookings(members=[member.pk], upcoming=True).filter(
        status=Booking.Status.BOOKED
    )
    open_invoices = Invoice.objects.filter(payer=member, status=Invoice.Status.OPEN).count()
    return {
        "member_number": member.pk,
        "member_status": member.get_status_display(),
        "membership": membership.plan.name if membership else None,
        "membership_status": membership_selectors.membership_status_on(
            membership=membership, on=today
        )
        if membership
        else None,
        "membership_ends": membership.end_date.isoformat()
        if membership and membership.end_date
        else None,
        "last_visit": last.isoformat() if last else None,
        "upcoming_bookings": upcoming.count(),
        "open_invoices": open_invoices,
    }


def tomorrow_classes(caller: Caller, args: dict) -> dict:
    branch = _branch_named(args.get("branch"))
    sessions = ClassSession.objects.filter(
        starts_at__gt=caller.now, starts_at__lt=caller.now + timedelta(days=3)
    ).select_related("branch", "class_type", "class_type__category", "trainer")
    if branch is not None:
        sessions = sessions.filter(branch=branch)
    if caller.role == "trainer":
        sessions = sessions.filter(trainer=caller.trainer)
    rows = []
    for session in sessions.order_by("starts_at", "pk"):
        tomorrow = _local(caller.now, session.branch.timezone).date() + timedelta(days=1)
        if _local(session.starts_at, session.branch.timezone).date() != tomorrow:
            continue
        row = _session_row(session)
        row["booked"] = session.booked_count
        rows.append(row)
    return {"classes": rows, "count": len(rows)}


# --- registry ------------------------------------------------------------------------

MEMBER, TRAINER, STAFF = "member", "trainer", "staff"
EVERYONE = frozenset({MEMBER, TRAINER, STAFF})


def _props(**properties) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False}


_S = {"type": "string"}
_I = {"type": "integer"}

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            "find_classes",
            "Upcoming classes (next 14 days) with places left. Filter by class type or "
            "category (e.g. 'yoga', 'Spin 45'), branch name, day ('today', 'tomorrow', a "
            "weekday, 'weekend' or YYYY-MM-DD), time_of_day (morning, lunchtime, afternoon, "
            "evening), after_hour/before_hour (0-23, local), min_places.",
            _props(
                class_type=_S,
                branch=_S,
                day=_S,
                time_of_day={"type": "string", "enum": list(TIMES_OF_DAY)},
                after_hour=_I,
                before_hour=_I,
                min_places=_I,
                limit=_I,
            ),
            EVERYONE,
            find_classes,
        ),
        Tool(
            "my_bookings",
            "The caller's upcoming bookings and waitlist places (and their household's).",
            _props(),
            frozenset({MEMBER}),
            my_bookings,
        ),
        Tool(
            "book_class",
            "Ask to book a class by its session_id (joins the waitlist when full). Returns "
            "a confirmation request: nothing is booked until the member confirms.",
            _props(session_id=_I) | {"required": ["session_id"]},
            frozenset({MEMBER}),
            book_class,
            action=_do_book,
        ),
        Tool(
            "cancel_booking",
            "Ask to cancel one of the caller's bookings by booking_id. Returns a "
            "confirmation request saying whether it is a late cancellation.",
            _props(booking_id=_I) | {"required": ["booking_id"]},
            frozenset({MEMBER}),
            cancel_booking,
            action=_do_cancel,
        ),
        Tool(
            "join_waitlist",
            "Ask to join the waitlist of a full class by session_id (confirmation first).",
            _props(session_id=_I) | {"required": ["session_id"]},
            frozenset({MEMBER}),
            join_waitlist,
            action=_do_book,
        ),
        Tool(
            "leave_waitlist",
            "Ask to leave a waitlist by booking_id (confirmation first).",
            _props(booking_id=_I) | {"required": ["booking_id"]},
            frozenset({MEMBER}),
            leave_waitlist,
            action=_do_cancel,
        ),
        Tool(
            "plans_and_prices",
            "Membership plans on sale and their prices (optionally at one branch).",
            _props(branch=_S),
            EVERYONE,
            plans_and_prices,
        ),
        Tool(
            "opening_hours",
            "Opening hours and address of each branch (or one branch).",
            _props(branch=_S),
            EVERYONE,
            opening_hours,
        ),
        Tool(
            "my_membership",
            "The caller's membership (plan, status, end, credits) and what they owe.",
            _props(),
            frozenset({MEMBER}),
            my_membership,
            private_fields=("owed", "not_yet_invoiced"),
        ),
        Tool(
            "my_training_plan",
            "The caller's assigned training plan and today's workout from it (exercises "
            "with their prescription), from the training app.",
            _props(),
            frozenset({MEMBER}),
            my_training_plan,
        ),
        Tool(
            "today_figures",
            "Today's figures of the gym (or the staff member's branches).",
            _props(),
            frozenset({STAFF}),
            today_figures,
        ),
        Tool(
            "at_risk_members",
            "Members with an active membership and no visit for some days (default 14), "
            "by member number.",
            _props(days=_I),
            frozenset({STAFF}),
            at_risk_members,
        ),
        Tool(
            "member_status",
            "One member's membership, last visit, bookings and open invoices, by member number.",
            _props(member_number=_I) | {"required": ["member_number"]},
            frozenset({STAFF}),
            member_status,
        ),
        Tool(
            "tomorrow_classes",
            "Tomorrow's classes with bookings and waitlists (a trainer: their own classes).",
            _props(branch=_S),
            frozenset({STAFF, TRAINER}),
            tomorrow_classes,
        ),
    ]
}


def tools_for(role: str) -> list[Tool]:
    return [tool for tool in TOOLS.values() if role in tool.roles]


def _check_arguments(tool: Tool, args) -> dict:
    if not isinstance(args, dict):
        raise ToolRefused(_("Arguments must be an object."))
    allowed = tool.parameters.get("properties", {})
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        if any("member" in name or "user" in name for name in unknown):
            raise ToolRefused(_("You can only see and change your own bookings and membership."))
        raise ToolRefused(_("Unknown argument: %(names)s.") % {"names": ", ".join(unknown)})
    for name in tool.parameters.get("required", []):
        if args.get(name) in (None, ""):
            raise ToolRefused(_("Missing argument: %(name)s.") % {"name": name})
    for name, spec in allowed.items():
        value = args.get(name)
        if value is None:
            continue
        if spec.get("type") == "integer":
            try:
                args[name] = int(value)
            except (TypeError, ValueError):
                raise ToolRefused(_("%(name)s must be a number.") % {"name": name}) from None
        elif not isinstance(value, str):
            args[name] = str(value)
    return args


def call_tool(caller: Caller, name: str, args) -> ToolCall:
    """Run one tool as the caller; a refusal is a result the engine can read, not an error."""
    tool = TOOLS.get(name)
    arguments = dict(args) if isinstance(args, dict) else {}
    if tool is None or caller.role not in tool.roles:
        return ToolCall(name, arguments, {"error": _("No such tool for you.")}, refused=True)
    try:
        result = tool.run(caller, _check_arguments(tool, arguments))
    except ToolRefused as exc:
        return ToolCall(name, arguments, {"error": str(exc)}, refused=True)
    except ServiceError as exc:
        return ToolCall(name, arguments, {"error": str(exc.message), "code": exc.code}, True)
    return ToolCall(name, arguments, result)


def redacted(call: ToolCall) -> dict:
    """What the review log keeps of a call: no token, no amounts owed."""
    tool = TOOLS.get(call.name)
    result = dict(call.result)
    result.pop("confirmation_token", None)
    for key in tool.private_fields if tool else ():
        if key in result:
            result[key] = "[not logged]"
    return {"tool": call.name, "arguments": call.arguments, "result": result}


class ConfirmationInvalid(ServiceError):
    default_code = "confirmation_invalid"


def confirm_action(caller: Caller, token: str) -> dict:
    """Do what the person confirmed, once, through the service the portal uses."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ConfirmationInvalid(_("This confirmation has expired: ask again.")) from None
    except signing.BadSignature:
        raise ConfirmationInvalid(_("This confirmation is not valid.")) from None
    same_person = (
        data.get("u") == caller.user.pk
        and data.get("o") == caller.organisation.pk
        and data.get("r") == caller.role
    )
    tool = TOOLS.get(data.get("t"))
    if not same_person or tool is None or tool.action is None or caller.role not in tool.roles:
        raise ConfirmationInvalid(_("This confirmation is not valid."))
    # One use: a replayed token (double click, a copied request) does nothing twice.
    used_key = "assistant:confirmed:" + hashlib.sha256(token.encode()).hexdigest()
    if not cache.add(used_key, 1, timeout=CONFIRM_MAX_AGE + 60):
        raise ConfirmationInvalid(_("This was already confirmed."), code="already_confirmed")
    try:
        return tool.action(caller, dict(data["a"]))
    except ToolRefused as exc:
        raise ConfirmationInvalid(str(exc)) from None
    except ServiceError:
        cache.delete(used_key)
        raise
