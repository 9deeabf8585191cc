"""Taking a place in a class, or a waitlist place: the booking hot path.

One read (``selectors.booking_context``) and, in the common case, one write statement
(``take_place``: a CTE that takes the place, writes the booking and its email)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.services import audit_record
from bookings import selectors
from bookings.emails import booking_email
from bookings.locks import lock_memberships
from bookings.models import Booking, BookingPolicy
from classes.models import ClassSession
from gymsite.db import single_statement
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.models import OutboxMessage
from gymsite.outbox import message_insert_params, message_insert_sql
from memberships.services import membership_consume_credit

# The booking row's columns as take_place writes them: the id first (read before,
# with the booking's context), every column but the arrival, which the UPDATE hands out.
_BOOKING_FIELDS = [Booking._meta.pk] + [
    f for f in Booking._meta.concrete_fields if f.attname not in ("id", "arrival")
]


@cache
def _take_place_sql(*, waitlisted: bool, with_message: bool) -> str:
    columns = ", ".join(f'"{f.column}"' for f in _BOOKING_FIELDS)
    placeholders = ", ".join(["%s"] * len(_BOOKING_FIELDS))
    counter = "waitlist_count" if waitlisted else "booked_count"
    room = "booked_count >= capacity" if waitlisted else "booked_count < capacity"
    # PostgreSQL runs every data-modifying CTE whether or not it is referenced.
    message = ""
    if with_message:
        message = f", message AS ({message_insert_sql(source='FROM booking')})"
    return f"""
        WITH claimed AS (
            UPDATE {ClassSession._meta.db_table}
               SET {counter} = {counter} + 1, arrival_seq = arrival_seq + 1
             WHERE id = %s AND organisation_id = %s AND status = %s AND starts_at > %s
               AND {room}
         RETURNING arrival_seq
        ), booking AS (
            INSERT INTO {Booking._meta.db_table} ({columns}, "arrival")
            SELECT {placeholders}, arrival_seq FROM claimed
            RETURNING arrival
        ){message}
        SELECT arrival FROM booking
    """  # noqa: S608 (names from the models, values are parameters)


def take_place(
    *, booking: Booking, waitlisted: bool, now, message: OutboxMessage | None
) -> int | None:
    """Take a place (or, with ``waitlisted``, a waitlist place) and write the booking
    and its email, all in one statement.

    The UPDATE of the session row succeeds only while ``booked_count < capacity``
    (``>=`` for a waitlist place) on the row's latest version: PostgreSQL re-checks
    the WHERE clause after waiting for the row lock, so two bookers can never both
    take the last place, and the lock serialises arrivals. The booking row takes the
    arrival number the UPDATE returned; the partial unique index on (session, member)
    rejects a second active booking, which undoes the whole statement. One statement
    keeps the session lock, which every booker of the class queues on, as short as
    a statement: the lock is released by the commit that immediately follows it.

    Returns the arrival number, or None when the session was not open for it
    (cancelled, started, full/not full): then nothing was changed.
    """
    sql = _take_place_sql(waitlisted=waitlisted, with_message=message is not None)
    params = [booking.session_id, booking.organisation_id, ClassSession.Status.SCHEDULED, now]
    params += [
        f.get_db_prep_save(f.pre_save(booking, add=True), connection) for f in _BOOKING_FIELDS
    ]
    if message is not None:
        params += message_insert_params(message)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


class SessionNotFound(ServiceError):
    status_code = 404
    default_code = "not_found"


def check_bookable(session: ClassSession, now: datetime) -> None:
    if session.status != ClassSession.Status.SCHEDULED:
        raise ServiceError(_("This class has been cancelled."), code="session_cancelled")
    if session.starts_at <= now:
        raise ServiceError(_("This class has already started."), code="session_started")


def booking_create(
    *,
    session: ClassSession | int,
    member: Member | None = None,
    actor: User | None,
    override: bool = False,
    override_reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """Book a place, or join the waitlist when the class is full.

    ``member`` defaults to the actor's own member record in the gym in scope.
    ``override`` (staff only; the caller checks the permission) skips the booking
    window and membership rules but never the capacity, and is recorded.

    One read (``selectors.booking_context``) and, for a membership without credits
    or a weekly limit, one write statement (``take_place``): the common case
    needs no explicit transaction. Credits, a weekly limit or an override add a
    transaction that first locks the membership (lock order membership → session).
    """
    now = now or timezone.now()
    session_id = session if isinstance(session, int) else session.pk
    context = selectors.booking_context(
        session_id=session_id, member=member, user=actor if member is None else None
    )
    if context is None:
        raise SessionNotFound(_("No such class."))
    if member is None:
        member = context.member
        if member is None:
            raise NotAllowed(_("You are not a member of this gym."), code="not_member")
    session, policy, membership = context.session, context.policy, None
    check_bookable(session, now)
    window = selectors.booking_window(session=session, policy=policy)
    if not override:
        if now < window.opens_at:
            raise ServiceError(
                _("Booking opens %(days)s days before the class.")
                % {"days": policy.booking_opens_days},
                code="booking_not_open",
            )
        if now > window.closes_at:
            raise ServiceError(_("Booking for this class has closed."), code="booking_closed")
        try:
            membership = selectors.membership_allowing(
                member=member, session=session, memberships=context.memberships
            )
        except selectors.NotEligible as exc:
            raise NotAllowed(exc.message, code=exc.code) from None
    booking = Booking(
        pk=context.booking_id,
        organisation_id=session.organisation_id,
        session=session,
        member=member,
        membership=membership,
        credit_held=membership is not None and membership.credits_remaining is not None,
        status=Booking.Status.BOOKED,
        booked_by=actor if actor is not None and actor.is_authenticated else None,
        is_override=override,
        override_reason=override_reason if override else "",
        created_at=now,
    )
    weekly_limit = membership.plan.weekly_attendance_limit if membership else None
    try:
        if not (override or booking.credit_held or weekly_limit is not None):
            with single_statement():
                _place_or_waitlist(booking, policy=policy, window=window, now=now)
            return booking
        with transaction.atomic():
            if membership is not None:
                # Lock the membership first (architecture lock order) so one member's
                # concurrent bookings queue here: the weekly count sees them all and
                # the credit is taken once per place.
                lock_memberships([membership.pk])
                if weekly_limit is not None:
                    try:
                        selectors.check_weekly_limit(
                            member=member, session=session, limit=weekly_limit
                        )
                    except selectors.NotEligible as exc:
                        raise NotAllowed(exc.message, code=exc.code) from None
                if booking.credit_held:
                    # A waitlist place holds a credit too: promotion then needs no
                    # membership lock, so it can run under the session lock.
                    membership_consume_credit(membership=membership)
            _place_or_waitlist(booking, policy=policy, window=window, now=now)
            if override:
                audit_record(
                    actor=actor,
                    action="booking.override",
                    target=booking,
                    data={
                        "session": session_id,
                        "status": booking.status,
                        "reason": override_reason,
                    },
                )
        return booking
    except IntegrityError as exc:
        # The partial unique index on (session, member) for active bookings answers
        # "already booked?" at the INSERT (no query first); the capacity check
        # constraint is reachable only if something bypassed the session lock.
        if "booking_one_active_per_member_and_session" in str(exc):
            raise Conflict(
                _("You already have a place in this class."), code="already_booked"
            ) from None
        raise Conflict(_("This class is full."), code="session_full") from None


def _place_or_waitlist(
    booking: Booking, *, policy: BookingPolicy, window: selectors.BookingWindow, now: datetime
) -> None:
    """A place, else a waitlist place (if the class has one and nobody can be moved in
    any more: past the promotion cut-off a waitlist place could never become one),
    with its email."""
    session = booking.session
    waitlist_open = policy.waitlist_enabled and now <= window.promotion_until
    kinds = (False, True) if waitlist_open else (False,)
    # A place freed between the two attempts (a cancellation) sends us round again.
    for _attempt in range(3):
        for waitlisted in kinds:
            booking.status = Booking.Status.WAITLISTED if waitlisted else Booking.Status.BOOKED
            message = booking_email(booking, session, "waitlisted" if waitlisted else "confirmed")
            arrival = take_place(booking=booking, waitlisted=waitlisted, now=now, message=message)
            if arrival is not None:
                # The email is delivered by the outbox relay's next sweep (every few
                # seconds), not published to the broker from here: the member sees
                # the result on screen, and a rush of bookings costs no broker calls.
                booking.arrival = arrival
                booking._state.adding = False
                return
        # Nothing changed: say why from the session as it is now.
        current = ClassSession.objects.get(pk=session.pk)
        check_bookable(current, now)
        if not waitlist_open:
            break
    if policy.waitlist_enabled and not waitlist_open:
        raise Conflict(
            _("This class is full, and its waitlist has closed: nobody is moved in this late."),
            code="waitlist_closed",
        )
    raise Conflict(_("This class is full."), code="session_full")
