"""What a timetable change means for the people booked on it.

The handlers of ``classes.hooks`` (registered in ``BookingsConfig.ready``): a session
cancelled (places cancelled, credits returned, late cancellations refunded, everyone
told), moved (everyone told, reminders sent again) or resized (the waitlist moves in).
Each runs in the timetable change's transaction, under the session lock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings.emails import booking_email_context, booking_notify, recipient
from bookings.locks import lock_bookings, lock_memberships
from bookings.models import Booking
from bookings.penalties import credit_return, fee_withdraw
from classes.models import ClassSession
from gymsite.outbox import email_enqueue
from memberships.models import Membership

from .waitlist import promote_waiting

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
            credit_return(booking, memberships)
            fields.append("credit_held")
        if booking.fee_charged > 0:
            fee_withdraw(booking, "late_cancel", actor)
            fields.append("fee_charged")
        if fields:
            booking.save(update_fields=fields)


def _cancelled_with_the_class_memberships(session_id: int) -> dict[int, Membership]:
    return lock_memberships(
        Booking.objects.filter(
            session_id=session_id, status__in=_CANCELLED_WITH_THE_CLASS
        ).values_list("membership_id", flat=True)
    )


def session_cancelling_lock(*, session_id: int) -> None:
    """``classes.hooks.session_cancelling``: the memberships whose credits come back,
    locked before the session (lock order). A booking made between this read and the
    session lock has committed (its membership is free again) or is still waiting for
    the session lock and will find the session cancelled."""
    _cancelled_with_the_class_memberships(session_id)


def session_cancelled_bookings(*, session: ClassSession, actor: User | None, now: datetime) -> None:
    """``classes.hooks.session_cancelled``: every place and waitlist place is cancelled,
    credits come back, late cancellations are refunded and everyone booked is told
    (through the outbox). Runs under the session lock, in the cancel's transaction."""
    session_id = session.pk
    # Locked already (session_cancelling_lock): read again under the session lock.
    memberships = _cancelled_with_the_class_memberships(session_id)
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
        credit_return(booking, memberships)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancellation_reason = _("Class cancelled by the gym")
        booking.save(update_fields=["status", "cancelled_at", "cancellation_reason", "credit_held"])
        booking_notify(booking, session, "class_cancelled", "class-cancelled")
    _refund_late_cancellations(session_id, memberships, actor)
    ClassSession.objects.filter(pk=session_id).update(booked_count=0, waitlist_count=0)
    session.booked_count = 0
    session.waitlist_count = 0


def session_moved_notify(*, session: ClassSession, moved_from: datetime, move_id: int) -> int:
    """``classes.hooks.session_moved``: tell everyone booked or waiting that their class
    moved (under the session lock, in the move's transaction) and send their reminder
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
        to = recipient(booking.member)
        if not to:
            continue
        email_enqueue(
            to=to,
            template="bookings/class_moved",
            context={
                **booking_email_context(booking, session),
                "was_local": dateformat.format(moved_from_local, "l j F Y, H:i"),
            },
            organisation_id=booking.organisation_id,
            dedupe_key=f"booking-{booking.pk}-moved-{move_id}",
        )
        told += 1
    return told


def session_resized_promote(*, session: ClassSession, actor: User | None) -> None:
    """``classes.hooks.session_resized``: more places are filled from the waitlist at
    once (under the session lock, in the change's transaction)."""
    promote_waiting(session, now=timezone.now())
