"""Booking state changes. Each public function is one transaction.

State machine (``Booking.Status``)::

    (request) ──► booked ──► attended
        │           │  ├──► no_show
        │           │  ├──► cancelled        (before the cancellation cut-off)
        │           │  └──► late_cancelled   (after it: credit forfeited / fee)
        └──► waitlisted ──► booked           (promotion, same transaction as the freed place)
                    └──► cancelled           (member leaves, session ends or is cancelled)

Concurrency: locks via ``bookings.locks`` in the order membership → session →
booking. The session row lock serialises every change to a session's places, the
``class_session_not_overbooked`` check constraint and the
``booking_one_active_per_member_and_session`` partial unique index make
overbooking and double places impossible even if a caller forgot the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from accounts.models import Member, User
from accounts.services import audit_record
from classes.models import ClassSession
from gymsite.db import single_statement
from gymsite.errors import Conflict, NotAllowed, ServiceError
from gymsite.models import OutboxMessage
from gymsite.outbox import email_enqueue, email_message, outbox_record
from memberships.models import Membership
from memberships.services import membership_consume_credit, membership_return_credit

from . import selectors
from .locks import lock_bookings, lock_memberships, lock_session, take_place
from .models import (
    APPOINTMENT_ACTIVE,
    Appointment,
    AppointmentService,
    Booking,
    BookingPolicy,
    CalendarFeed,
)

# The source of an appointment's price on the member's account (one per appointment).
APPOINTMENT_PRICE_SOURCE = "bookings.appointment.price"

# --- helpers -------------------------------------------------------------------------


def _recipient(member: Member) -> str | None:
    """Dependants without an email of their own are reached through their payer."""
    if member.email:
        return member.email
    if member.payer_id and member.payer.email:
        return member.payer.email
    return None


def _email_context(booking: Booking, session: ClassSession) -> dict:
    local = selectors.session_local_start(session)
    return {
        "member_name": booking.member.first_name,
        "class_name": session.class_type.name,
        "branch_name": session.branch.name,
        "starts_local": dateformat.format(local, "l j F Y, H:i"),
        "timezone": session.branch.timezone,
        "booking_id": booking.pk,
        "status": booking.status,
    }


def _booking_email(
    booking: Booking,
    session: ClassSession,
    template: str,
    dedupe: str = "new",
    extra: dict | None = None,
) -> OutboxMessage | None:
    to = _recipient(booking.member)
    if not to:
        return None
    return email_message(
        to=to,
        template=f"bookings/{template}",
        context={**_email_context(booking, session), **(extra or {})},
        organisation_id=booking.organisation_id,
        dedupe_key=f"booking-{booking.pk}-{dedupe}",
        render_at_delivery=True,
    )


def _notify(
    booking: Booking, session: ClassSession, template: str, dedupe: str, extra: dict | None = None
) -> None:
    message = _booking_email(booking, session, template, dedupe, extra)
    if message is not None:
        outbox_record(message)


def _notify_promoted(booking: Booking, session: ClassSession, policy: BookingPolicy) -> None:
    """Tell them they are in, and until when they can still give the place up free."""
    free_until = selectors.free_cancel_until(booking=booking, session=session, policy=policy)
    local = free_until.astimezone(ZoneInfo(session.branch.timezone))
    extra = {"free_cancel_until": dateformat.format(local, "l j F Y, H:i")}
    if free_until == session.starts_at:
        extra = {"free_cancel_until_start": True}
    _notify(booking, session, "promoted", "promoted", extra)


def _charge_fee(*, booking: Booking, session: ClassSession, amount: Decimal, kind: str, actor):
    """Put a late-cancel or no-show fee on the member's next invoice (billing app)."""
    from billing.services import member_charge_add

    if amount <= 0:
        return Decimal("0")
    labels = {"late_cancel": _("Late cancellation"), "no_show": _("No-show")}
    member_charge_add(
        member=booking.member,
        branch=session.branch,
        description=f"{labels[kind]}: {session.class_type.name} "
        f"{selectors.session_local_start(session):%d/%m/%Y %H:%M}",
        amount=amount,
        source_type=f"bookings.booking.{kind}",
        source_id=str(booking.pk),
        actor=actor,
    )
    return amount


def _return_credit(booking: Booking, memberships: dict[int, Membership]) -> None:
    if booking.credit_held and booking.membership_id:
        membership = memberships.get(booking.membership_id) or booking.membership
        membership_return_credit(membership=membership)
        booking.credit_held = False


def _retake_credit(booking: Booking, memberships: dict[int, Membership]) -> None:
    """A no-show that gave the credit back, corrected to attended: the class was used,
    so the credit is taken again, if the membership still has one (the correction is
    the trainer's, and stands either way)."""
    membership = memberships.get(booking.membership_id) or booking.membership
    if membership.credits_remaining is None:
        return
    try:
        membership_consume_credit(membership=membership)
    except ServiceError:
        return
    booking.credit_held = True


def _check_bookable(session: ClassSession, now: datetime) -> None:
    if session.status != ClassSession.Status.SCHEDULED:
        raise ServiceError(_("This class has been cancelled."), code="session_cancelled")
    if session.starts_at <= now:
        raise ServiceError(_("This class has already started."), code="session_started")


# --- booking -------------------------------------------------------------------------


class SessionNotFound(ServiceError):
    status_code = 404
    default_code = "not_found"


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
    or a weekly limit, one write statement (``locks.take_place``): the common case
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
    _check_bookable(session, now)
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
                _take_place(booking, policy=policy, window=window, now=now)
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
            _take_place(booking, policy=policy, window=window, now=now)
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


def _take_place(
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
            message = _booking_email(booking, session, "waitlisted" if waitlisted else "confirmed")
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
        _check_bookable(current, now)
        if not waitlist_open:
            break
    if policy.waitlist_enabled and not waitlist_open:
        raise Conflict(
            _("This class is full, and its waitlist has closed: nobody is moved in this late."),
            code="waitlist_closed",
        )
    raise Conflict(_("This class is full."), code="session_full")


def _promote_waiting(session: ClassSession, *, now: datetime, force: bool = False) -> list[Booking]:
    """Fill free places from the waitlist, first come first served, in this transaction.

    Call with the session locked and its counters current. Stops at the promotion
    cut-off (unless ``force``): nobody is moved into a class so close to its start
    that a late-cancel charge would surprise them.
    """
    free = session.capacity - session.booked_count
    if free <= 0 or session.waitlist_count == 0:
        return []
    policy = selectors.policy_for(class_type_id=session.class_type_id)
    if not force and now > selectors.booking_window(session=session, policy=policy).promotion_until:
        return []
    if session.status != ClassSession.Status.SCHEDULED or session.starts_at <= now:
        return []
    candidates = list(
        Booking.objects.filter(session=session, status=Booking.Status.WAITLISTED)
        .select_related("member", "member__payer")
        .order_by("arrival")
        .values_list("pk", flat=True)
    )
    locked = lock_bookings(candidates)
    promoted = []
    for pk in candidates:
        if len(promoted) >= free:
            break
        booking = locked[pk]
        if not booking.is_override:
            try:
                # Their held credit already pays for the place.
                selectors.member_eligible_membership(
                    member=booking.member,
                    session=session,
                    exclude_booking_id=booking.pk,
                    require_credit=not booking.credit_held,
                )
            except selectors.NotEligible:
                continue
        booking.status = Booking.Status.BOOKED
        booking.promoted_at = now
        booking.save(update_fields=["status", "promoted_at"])
        promoted.append(booking)
    if promoted:
        ClassSession.objects.filter(pk=session.pk).update(
            booked_count=F("booked_count") + len(promoted),
            waitlist_count=F("waitlist_count") - len(promoted),
        )
        session.booked_count += len(promoted)
        session.waitlist_count -= len(promoted)
        for booking in promoted:
            _notify_promoted(booking, session, policy)
    return promoted


def _lock_booking_chain(booking_id: int) -> tuple[Booking, ClassSession, dict[int, Membership]]:
    """Lock a booking with its membership and session, in the architecture's order."""
    current = Booking.objects.filter(pk=booking_id).values("membership_id", "session_id").first()
    if current is None:
        raise ServiceError(_("No such booking."), code="not_found")
    memberships = lock_memberships([current["membership_id"]])
    session = lock_session(current["session_id"])
    booking = lock_bookings([booking_id])[booking_id]
    return booking, session, memberships


@transaction.atomic
def booking_cancel(
    *,
    booking: Booking | int,
    actor: User | None,
    waive_penalty: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> Booking:
    """Cancel a place or leave the waitlist; frees the place to the next in line.

    Before the cancellation cut-off: ``cancelled`` and the credit comes back. After
    it: ``late_cancelled`` with the class type's penalty (forfeit, fee or none),
    unless staff waive it.
    """
    now = now or timezone.now()
    booking_id = booking if isinstance(booking, int) else booking.pk
    booking, session, memberships = _lock_booking_chain(booking_id)
    if booking.status not in (Booking.Status.BOOKED, Booking.Status.WAITLISTED):
        raise Conflict(_("This booking can no longer be cancelled."), code="not_cancellable")
    if session.starts_at <= now and booking.status == Booking.Status.BOOKED:
        raise ServiceError(_("The class has already started."), code="session_started")

    policy = selectors.policy_for(class_type_id=session.class_type_id)
    was = booking.status
    booking.cancelled_at = now
    booking.cancellation_reason = reason
    if was == Booking.Status.WAITLISTED:
        booking.status = Booking.Status.CANCELLED
        _return_credit(booking, memberships)
        counters = {"waitlist_count": F("waitlist_count") - 1}
        session.waitlist_count -= 1
    else:
        late = now > selectors.free_cancel_until(booking=booking, session=session, policy=policy)
        if not late or waive_penalty or policy.late_cancel_penalty == BookingPolicy.Penalty.NONE:
            _return_credit(booking, memberships)
        if late:
            booking.status = Booking.Status.LATE_CANCELLED
            if policy.late_cancel_penalty == BookingPolicy.Penalty.FEE and not waive_penalty:
                booking.fee_charged = _charge_fee(
                    booking=booking,
                    session=session,
                    amount=policy.late_cancel_fee,
                    kind="late_cancel",
                    actor=actor,
                )
        else:
            booking.status = Booking.Status.CANCELLED
        counters = {"booked_count": F("booked_count") - 1}
        session.booked_count -= 1
    booking.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancellation_reason",
            "credit_held",
            "fee_charged",
        ]
    )
    ClassSession.objects.filter(pk=session.pk).update(**counters)
    if waive_penalty:
        audit_record(actor=actor, action="booking.cancel_waived", target=booking)
    if was == Booking.Status.BOOKED:
        _promote_waiting(session, now=now)
    return booking


@transaction.atomic
def booking_promote(*, booking: Booking | int, actor: User | None) -> Booking:
    """Staff move one waitlisted person into a free place, ahead of the queue."""
    now = timezone.now()
    booking_id = booking if isinstance(booking, int) else booking.pk
    booking, session, _memberships = _lock_booking_chain(booking_id)
    if booking.status != Booking.Status.WAITLISTED:
        raise Conflict(_("Only a waitlisted booking can be promoted."), code="not_waitlisted")
    if session.booked_count >= session.capacity:
        raise Conflict(
            _("The class is full: raise its capacity first."), code="session_full", field=None
        )
    _check_bookable(session, now)
    booking.status = Booking.Status.BOOKED
    booking.promoted_at = now
    booking.save(update_fields=["status", "promoted_at"])
    ClassSession.objects.filter(pk=session.pk).update(
        booked_count=F("booked_count") + 1, waitlist_count=F("waitlist_count") - 1
    )
    audit_record(actor=actor, action="booking.promote", target=booking)
    _notify_promoted(booking, session, selectors.policy_for(class_type_id=session.class_type_id))
    return booking


def _waive_no_show_fee(record: Booking | Appointment, actor) -> None:
    """A no-show corrected to attended: take the fee off the account if not billed yet."""
    _withdraw_fee(record, "no_show", actor)


def _withdraw_fee(record: Booking | Appointment, kind: str, actor) -> None:
    """Take a fee of ``kind`` off the account if it is not invoiced yet (once invoiced,
    staff credit it on the invoice, as for any charge)."""
    from billing.models import PendingCharge
    from billing.services import member_charge_cancel

    charge = PendingCharge.objects.filter(
        source_type=f"bookings.{record._meta.model_name}.{kind}",
        source_id=str(record.pk),
        status=PendingCharge.Status.PENDING,
    ).first()
    if charge is not None:
        member_charge_cancel(charge=charge, actor=actor)
        record.fee_charged = Decimal("0")


def _mark(booking_id: int, *, to: str, actor, now: datetime) -> Booking:
    booking, session, memberships = _lock_booking_chain(booking_id)
    allowed_from = {
        Booking.Status.ATTENDED: (Booking.Status.BOOKED, Booking.Status.NO_SHOW),
        Booking.Status.NO_SHOW: (Booking.Status.BOOKED,),
    }[to]
    if booking.status not in allowed_from:
        raise Conflict(
            _("A %(status)s booking cannot be marked like this.")
            % {"status": booking.get_status_display().lower()},
            code="invalid_transition",
        )
    if session.starts_at - timedelta(minutes=30) > now:
        raise ServiceError(_("Attendance is taken once the class starts."), code="too_early")
    fields = ["status", "attendance_marked_at", "fee_charged"]
    if booking.status == Booking.Status.NO_SHOW:
        if booking.fee_charged > 0:
            _waive_no_show_fee(booking, actor)
        if booking.membership_id and not booking.credit_held:
            _retake_credit(booking, memberships)
            fields.append("credit_held")
    booking.status = to
    booking.attendance_marked_at = now
    if to == Booking.Status.NO_SHOW:
        policy = selectors.policy_for(class_type_id=session.class_type_id)
        if policy.no_show_penalty == BookingPolicy.Penalty.NONE:
            _return_credit(booking, memberships)
            fields.append("credit_held")
        elif policy.no_show_penalty == BookingPolicy.Penalty.FEE:
            booking.fee_charged = _charge_fee(
                booking=booking,
                session=session,
                amount=policy.no_show_fee,
                kind="no_show",
                actor=actor,
            )
    booking.save(update_fields=fields)
    return booking


@transaction.atomic
def booking_mark_attended(*, booking: Booking | int, actor: User | None, now=None) -> Booking:
    """Check a booked member in (trainer's roster, front desk or the door)."""
    booking_id = booking if isinstance(booking, int) else booking.pk
    return _mark(booking_id, to=Booking.Status.ATTENDED, actor=actor, now=now or timezone.now())


@transaction.atomic
def booking_mark_no_show(*, booking: Booking | int, actor: User | None, now=None) -> Booking:
    booking_id = booking if isinstance(booking, int) else booking.pk
    return _mark(booking_id, to=Booking.Status.NO_SHOW, actor=actor, now=now or timezone.now())


# --- sessions ------------------------------------------------------------------------


# Whose bookings change when the gym cancels the class: the live ones are cancelled,
# and a late cancellation's penalty is undone (the class they gave up never ran).
_CANCELLED_WITH_THE_CLASS = (
    Booking.Status.BOOKED,
    Booking.Status.WAITLISTED,
    Booking.Status.LATE_CANCELLED,
)


def _refund_late_cancellations(session_id: int, memberships: dict[int, Membership], actor) -> None:
    """Call under the session lock, with the memberships locked."""
    late = list(
        Booking.objects.filter(
            session_id=session_id, status=Booking.Status.LATE_CANCELLED
        ).values_list("pk", flat=True)
    )
    for booking in lock_bookings(late).values():
        fields = []
        if booking.credit_held:
            _return_credit(booking, memberships)
            fields.append("credit_held")
        if booking.fee_charged > 0:
            _withdraw_fee(booking, "late_cancel", actor)
            fields.append("fee_charged")
        if fields:
            booking.save(update_fields=fields)


@transaction.atomic
def session_cancel_bookings(
    *, session: ClassSession | int, actor: User | None, reason: str = ""
) -> ClassSession:
    """Cancel a session: every place and waitlist place is cancelled, credits come back
    and everyone booked is told (through the outbox)."""
    now = timezone.now()
    session_id = session if isinstance(session, int) else session.pk
    # Memberships first (lock order). A booking made between this read and the
    # session lock has committed (its membership is free again) or is still waiting
    # for the session lock and will find the session cancelled.
    membership_ids = Booking.objects.filter(
        session_id=session_id, status__in=_CANCELLED_WITH_THE_CLASS
    ).values_list("membership_id", flat=True)
    memberships = lock_memberships(list(membership_ids))
    session = lock_session(session_id)
    if session.status == ClassSession.Status.CANCELLED:
        raise Conflict(_("This class is already cancelled."), code="already_cancelled")
    session.status = ClassSession.Status.CANCELLED
    session.cancellation_reason = reason
    live = list(
        Booking.objects.filter(
            session_id=session_id, status__in=(Booking.Status.BOOKED, Booking.Status.WAITLISTED)
        ).values_list("pk", flat=True)
    )
    locked = lock_bookings(live)
    missing = {b.membership_id for b in locked.values() if b.credit_held} - set(memberships)
    memberships.update(lock_memberships(missing))
    bookings = (
        Booking.objects.filter(pk__in=live).select_related("member", "member__payer").order_by("pk")
    )
    for booking in bookings:
        booking.credit_held = locked[booking.pk].credit_held
        _return_credit(booking, memberships)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancellation_reason = _("Class cancelled by the gym")
        booking.save(update_fields=["status", "cancelled_at", "cancellation_reason", "credit_held"])
        _notify(booking, session, "class_cancelled", "class-cancelled")
    _refund_late_cancellations(session_id, memberships, actor)
    session.booked_count = 0
    session.waitlist_count = 0
    session.save(update_fields=["status", "cancellation_reason", "booked_count", "waitlist_count"])
    audit_record(actor=actor, action="session.cancel", target=session, data={"reason": reason})
    return session


def session_moved_notify(*, session: ClassSession, moved_from: datetime, move_id: int) -> int:
    """Tell everyone booked or waiting that their class moved (``classes.services.session_move``
    calls this under the session lock, in its transaction) and send their reminder
    again for the new time. Returns how many were told."""
    live = list(
        Booking.objects.filter(
            session=session, status__in=(Booking.Status.BOOKED, Booking.Status.WAITLISTED)
        )
        .select_related("member", "member__payer")
        .order_by("pk")
    )
    Booking.objects.filter(pk__in=[b.pk for b in live]).update(reminder_sent_at=None)
    moved_from_local = moved_from.astimezone(ZoneInfo(session.branch.timezone))
    told = 0
    for booking in live:
        to = _recipient(booking.member)
        if not to:
            continue
        email_enqueue(
            to=to,
            template="bookings/class_moved",
            context={
                **_email_context(booking, session),
                "was_local": dateformat.format(moved_from_local, "l j F Y, H:i"),
            },
            organisation_id=booking.organisation_id,
            dedupe_key=f"booking-{booking.pk}-moved-{move_id}",
        )
        told += 1
    return told


@transaction.atomic
def session_set_capacity(
    *, session: ClassSession | int, capacity: int, actor: User | None
) -> ClassSession:
    """Change the number of places; raising it promotes from the waitlist at once."""
    session_id = session if isinstance(session, int) else session.pk
    session = lock_session(session_id)
    if capacity < 1:
        raise ServiceError(_("A class needs at least one place."), code="invalid", field="capacity")
    if capacity < session.booked_count:
        raise ServiceError(
            _("%(n)s people are booked: capacity cannot go below that.")
            % {"n": session.booked_count},
            code="capacity_below_booked",
            field="capacity",
        )
    if session.room_id and capacity > session.room.capacity:
        raise ServiceError(
            _("The room holds at most %(n)s people.") % {"n": session.room.capacity},
            code="room_too_small",
            field="capacity",
        )
    session.capacity = capacity
    session.save(update_fields=["capacity"])
    audit_record(actor=actor, action="session.capacity", target=session, data={"to": capacity})
    _promote_waiting(session, now=timezone.now())
    return session


# --- periodic jobs -------------------------------------------------------------------


def bookings_settle_finished(*, now: datetime | None = None, limit: int = 500) -> int:
    """After a class ends: booked-but-not-checked-in become no-shows (with the policy's
    penalty) and the waitlist closes (held credits come back). Idempotent."""
    now = now or timezone.now()
    done = 0
    sessions = list(
        ClassSession.objects.filter(
            ends_at__lt=now,
            bookings__status__in=(Booking.Status.BOOKED, Booking.Status.WAITLISTED),
        )
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )
    for session_id in sessions:
        with transaction.atomic():
            live = list(
                Booking.objects.filter(
                    session_id=session_id,
                    status__in=(Booking.Status.BOOKED, Booking.Status.WAITLISTED),
                ).values_list("pk", "membership_id")
            )
            memberships = lock_memberships([m for _pk, m in live])
            session = lock_session(session_id)
            policy = selectors.policy_for(class_type_id=session.class_type_id)
            locked = lock_bookings([pk for pk, _m in live])
            for booking in locked.values():
                if booking.status == Booking.Status.WAITLISTED:
                    _return_credit(booking, memberships)
                    booking.status = Booking.Status.CANCELLED
                    booking.cancelled_at = now
                    booking.cancellation_reason = _("Not promoted from the waitlist")
                    booking.save(
                        update_fields=[
                            "status",
                            "cancelled_at",
                            "cancellation_reason",
                            "credit_held",
                        ]
                    )
                elif booking.status == Booking.Status.BOOKED:
                    booking.status = Booking.Status.NO_SHOW
                    booking.attendance_marked_at = now
                    if policy.no_show_penalty == BookingPolicy.Penalty.NONE:
                        _return_credit(booking, memberships)
                    elif policy.no_show_penalty == BookingPolicy.Penalty.FEE:
                        booking.fee_charged = _charge_fee(
                            booking=booking,
                            session=session,
                            amount=policy.no_show_fee,
                            kind="no_show",
                            actor=None,
                        )
                    booking.save(
                        update_fields=[
                            "status",
                            "attendance_marked_at",
                            "credit_held",
                            "fee_charged",
                        ]
                    )
                done += 1
            ClassSession.objects.filter(pk=session_id).update(waitlist_count=0)
    return done


def bookings_send_reminders(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Email a reminder once per booking, N hours before its class (policy per class type)."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=168)
    candidates = list(
        Booking.objects.filter(
            status=Booking.Status.BOOKED,
            reminder_sent_at__isnull=True,
            session__starts_at__gt=now,
            session__starts_at__lte=horizon,
            session__status=ClassSession.Status.SCHEDULED,
        )
        .select_related(
            "member", "member__payer", "session", "session__branch", "session__class_type"
        )
        .order_by("session__starts_at")[:limit]
    )
    policies = selectors.policies_by_class_type({b.session.class_type_id for b in candidates})
    sent = 0
    for booking in candidates:
        policy = policies[booking.session.class_type_id]
        if booking.session.starts_at - timedelta(hours=policy.reminder_hours) > now:
            continue
        with transaction.atomic():
            claimed = Booking.objects.filter(pk=booking.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            )
            if claimed:
                # The start time is in the key: a class moved after its reminder was
                # sent gets one for the new time (session_move clears reminder_sent_at).
                _notify(
                    booking,
                    booking.session,
                    "reminder",
                    f"reminder-{int(booking.session.starts_at.timestamp())}",
                )
                sent += 1
    return sent


# --- personal training ---------------------------------------------------------------


def _appointment_context(appointment: Appointment) -> dict:
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    return {
        "member_name": appointment.member.first_name,
        "service_name": appointment.service.name,
        "trainer_name": appointment.trainer.display_name,
        "branch_name": appointment.branch.name,
        "starts_local": dateformat.format(local, "l j F Y, H:i"),
        "timezone": appointment.branch.timezone,
    }


def _notify_appointment(appointment: Appointment, template: str, dedupe: str) -> None:
    to = _recipient(appointment.member)
    if not to:
        return
    email_enqueue(
        to=to,
        template=f"bookings/{template}",
        context=_appointment_context(appointment),
        organisation_id=appointment.organisation_id,
        dedupe_key=f"appointment-{appointment.pk}-{dedupe}",
    )


def _charge_appointment_fee(
    *, appointment: Appointment, amount: Decimal, kind: str, actor
) -> Decimal:
    """A late-cancel or no-show fee on the member's next invoice, as for classes."""
    from billing.services import member_charge_add

    if amount <= 0:
        return Decimal("0")
    labels = {"late_cancel": _("Late cancellation"), "no_show": _("No-show")}
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    member_charge_add(
        member=appointment.member,
        branch=appointment.branch,
        description=f"{labels[kind]}: {appointment.service.name} {local:%d/%m/%Y %H:%M}",
        amount=amount,
        source_type=f"bookings.appointment.{kind}",
        source_id=str(appointment.pk),
        actor=actor,
    )
    return amount


def _bill_appointment_price(appointment: Appointment, *, actor, now: datetime) -> None:
    """Put the appointment's price on the member's account (billed to their payer on
    the next invoice at the branch) and stamp ``billed_at``; a free one is only stamped.
    The charge's source makes it once per appointment, whoever asks."""
    from billing.services import member_charge_add

    appointment.billed_at = now
    if appointment.price <= 0:
        return
    local = appointment.starts_at.astimezone(ZoneInfo(appointment.branch.timezone))
    member_charge_add(
        member=appointment.member,
        branch=appointment.branch,
        description=f"{appointment.service.name}: {appointment.trainer.display_name} "
        f"{local:%d/%m/%Y %H:%M}",
        amount=appointment.price,
        source_type=APPOINTMENT_PRICE_SOURCE,
        source_id=str(appointment.pk),
        actor=actor,
    )


def _withdraw_appointment_price(appointment: Appointment, *, actor) -> None:
    """Take a waived appointment's price off the account if it is not invoiced yet
    (once invoiced, staff credit it on the invoice, as for any charge)."""
    from billing.models import PendingCharge
    from billing.services import member_charge_cancel

    charge = PendingCharge.objects.filter(
        source_type=APPOINTMENT_PRICE_SOURCE,
        source_id=str(appointment.pk),
        status=PendingCharge.Status.PENDING,
    ).first()
    if charge is not None:
        member_charge_cancel(charge=charge, actor=actor)


def appointments_bill_finished(*, now: datetime | None = None, limit: int = 500) -> int:
    """After an appointment ends its price goes on the member's account, attended or
    not (a no-show used the trainer's time as a late cancellation does). Each is
    claimed with a conditional UPDATE on ``billed_at``, so two runs bill it once.
    Returns how many were charged."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.filter(APPOINTMENT_ACTIVE, billed_at__isnull=True, ends_at__lte=now)
        .select_related("member", "member__payer", "service", "trainer", "branch")
        .order_by("ends_at")[:limit]
    )
    charged = 0
    for appointment in due:
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                APPOINTMENT_ACTIVE, pk=appointment.pk, billed_at__isnull=True
            ).update(billed_at=now)
            if claimed:
                _bill_appointment_price(appointment, actor=None, now=now)
                charged += appointment.price > 0
    return charged


def finished_settle(*, now: datetime | None = None) -> int:
    """The periodic settle job's body: finished classes, then finished appointments."""
    now = now or timezone.now()
    return bookings_settle_finished(now=now) + appointments_bill_finished(now=now)


def _lock_appointment(appointment: Appointment | int) -> Appointment:
    appointment_id = appointment if isinstance(appointment, int) else appointment.pk
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("service", "trainer", "branch", "member", "member__payer")
        .get(pk=appointment_id)
    )


@transaction.atomic
def appointment_book(
    *,
    service: AppointmentService,
    trainer,
    member: Member,
    branch,
    starts_at: datetime,
    actor: User | None,
    notes: str = "",
    check_availability: bool = True,
) -> Appointment:
    """Book a trainer for a slot. Neither the trainer nor the member may be double-booked.

    Two guards: the trainer's and the member's rows are locked (trainer first, then
    member) so concurrent requests queue, and two exclusion constraints on
    (id range, time range) reject any overlap in the database itself.
    """
    from accounts.models import TrainerProfile

    from .availability import slot_is_available

    if not service.is_active:
        raise ServiceError(_("This service is not offered any more."), code="service_inactive")
    if starts_at <= timezone.now():
        raise ServiceError(_("Pick a time in the future."), code="in_the_past", field="starts_at")
    ends_at = starts_at + timedelta(minutes=service.duration_minutes)
    if check_availability and not slot_is_available(
        trainer=trainer, branch=branch, starts_at=starts_at, ends_at=ends_at
    ):
        raise ServiceError(
            _("The trainer is not available at that time."),
            code="trainer_unavailable",
            field="starts_at",
        )
    TrainerProfile.objects.select_for_update().get(pk=trainer.pk)
    Member.objects.select_for_update().get(pk=member.pk)
    active = (Appointment.Status.BOOKED, Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW)
    overlapping = Appointment.objects.filter(
        status__in=active, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if overlapping.filter(trainer=trainer).exists():
        raise Conflict(_("That slot has just been taken."), code="slot_taken", field="starts_at")
    if overlapping.filter(member=member).exists():
        raise Conflict(
            _("You already have an appointment at that time."),
            code="member_overlap",
            field="starts_at",
        )
    if ClassSession.objects.filter(
        trainer=trainer,
        status=ClassSession.Status.SCHEDULED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).exists():
        raise Conflict(_("The trainer teaches a class then."), code="slot_taken", field="starts_at")
    appointment = Appointment(
        service=service,
        trainer=trainer,
        member=member,
        branch=branch,
        starts_at=starts_at,
        ends_at=ends_at,
        booked_by=actor if actor is not None and actor.is_authenticated else None,
        notes=notes,
        price=service.price,
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        raise Conflict(_("That slot has just been taken."), code="slot_taken") from None
    _notify_appointment(appointment, "appointment_confirmed", "confirmed")
    return appointment


@transaction.atomic
def appointment_cancel(
    *,
    appointment: Appointment | int,
    actor: User | None,
    waive_penalty: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Cancel an appointment. Before the service's cut-off: ``cancelled``. After it:
    ``late_cancelled`` and the late-cancellation fee (if the rules have one) goes on
    the member's next invoice, unless staff waive it (audited)."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(_("This appointment can no longer be cancelled."), code="not_cancellable")
    if appointment.starts_at <= now and not waive_penalty:
        raise ServiceError(_("The appointment has already started."), code="already_started")
    rules = selectors.appointment_rules(service=appointment.service)
    late = now > rules.cancel_free_until(appointment)
    appointment.status = Appointment.Status.LATE_CANCELLED if late else Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    if late and not waive_penalty:
        appointment.fee_charged = _charge_appointment_fee(
            appointment=appointment, amount=rules.late_cancel_fee, kind="late_cancel", actor=actor
        )
        # Too late for the trainer to fill the slot: its price is due, as if it ended.
        _bill_appointment_price(appointment, actor=actor, now=now)
    elif appointment.billed_at is not None:
        # Waived after the billing job ran (the appointment has ended): no price either.
        _withdraw_appointment_price(appointment, actor=actor)
    appointment.save(update_fields=["status", "cancelled_at", "fee_charged", "billed_at"])
    if waive_penalty:
        audit_record(actor=actor, action="appointment.cancel_waived", target=appointment)
    return appointment


def appointment_mark(
    *,
    appointment: Appointment | int,
    attended: bool,
    actor: User | None,
    now: datetime | None = None,
) -> Appointment:
    """The trainer marks attended or no-show (a no-show may be corrected to attended).

    A no-show costs the service's no-show fee, if the rules have one; correcting it
    to attended cancels the fee if it has not been invoiced yet."""
    now = now or timezone.now()
    appointment = _lock_appointment(appointment)
    allowed_from = (
        (Appointment.Status.BOOKED, Appointment.Status.NO_SHOW)
        if attended
        else (Appointment.Status.BOOKED,)
    )
    if appointment.status not in allowed_from:
        raise Conflict(_("This appointment cannot be marked."), code="invalid_transition")
    if appointment.starts_at - timedelta(minutes=30) > now:
        raise ServiceError(_("Attendance is taken once the appointment starts."), code="too_early")
    if appointment.status == Appointment.Status.NO_SHOW and appointment.fee_charged > 0:
        _waive_no_show_fee(appointment, actor)
    appointment.status = Appointment.Status.ATTENDED if attended else Appointment.Status.NO_SHOW
    appointment.attendance_marked_at = now
    if not attended:
        rules = selectors.appointment_rules(service=appointment.service)
        appointment.fee_charged = _charge_appointment_fee(
            appointment=appointment, amount=rules.no_show_fee, kind="no_show", actor=actor
        )
    appointment.save(update_fields=["status", "attendance_marked_at", "fee_charged"])
    return appointment


def appointments_send_reminders(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Email a reminder once per appointment, N hours before it (the service's rule,
    else the gym's). Claimed with a conditional UPDATE, so two runs send one email."""
    now = now or timezone.now()
    candidates = list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(hours=168),
        )
        .select_related("member", "member__payer", "service", "trainer", "branch")
        .order_by("starts_at")[:limit]
    )
    if not candidates:
        return 0
    gym_rules = selectors.default_policy()
    rules_by_service: dict[int, selectors.AppointmentRules] = {}
    sent = 0
    for appointment in candidates:
        if appointment.service_id not in rules_by_service:
            rules_by_service[appointment.service_id] = selectors.appointment_rules(
                service=appointment.service, default=gym_rules
            )
        hours = rules_by_service[appointment.service_id].reminder_hours
        if appointment.starts_at - timedelta(hours=hours) > now:
            continue
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=appointment.pk,
                status=Appointment.Status.BOOKED,
                reminder_sent_at__isnull=True,
            ).update(reminder_sent_at=now)
            if claimed:
                _notify_appointment(
                    appointment,
                    "appointment_reminder",
                    f"reminder-{int(appointment.starts_at.timestamp())}",
                )
                sent += 1
    return sent


def reminders_send_due(*, now: datetime | None = None) -> int:
    """The periodic reminder job's body: classes and appointments, each once."""
    now = now or timezone.now()
    return bookings_send_reminders(now=now) + appointments_send_reminders(now=now)


# --- calendar feed -------------------------------------------------------------------


@transaction.atomic
def calendar_feed_for(*, member: Member, reset: bool = False) -> CalendarFeed:
    feed, created = CalendarFeed.objects.get_or_create(member=member)
    if reset and not created:
        from .models import _new_feed_token

        feed.token = _new_feed_token()
        feed.save(update_fields=["token"])
    return feed
