"""Attendance: attended or no-show, marked by the trainer, the front desk, the door, or by
the settle job once a class is over (with the class type's no-show penalty)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from bookings import selectors
from bookings.appointments.services import appointments_bill_finished
from bookings.locks import lock_booking_chain, lock_bookings, lock_memberships, lock_session
from bookings.models import Booking
from bookings.penalties import (
    credit_retake,
    credit_return,
    no_show_fee_waive,
    no_show_penalty_apply,
)
from classes.models import ClassSession
from gymsite.errors import Conflict, ServiceError


def _mark(booking_id: int, *, to: str, actor, now: datetime) -> Booking:
    booking, session, memberships = lock_booking_chain(booking_id)
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
    if not selectors.attendance_open(session, now=now):
        raise ServiceError(_("Attendance is taken once the class starts."), code="too_early")
    fields = ["status", "attendance_marked_at", "fee_charged"]
    if booking.status == Booking.Status.NO_SHOW:
        if booking.fee_charged > 0:
            no_show_fee_waive(booking, actor)
        if booking.membership_id and not booking.credit_held:
            credit_retake(booking, memberships)
            fields.append("credit_held")
    booking.status = to
    booking.attendance_marked_at = now
    if to == Booking.Status.NO_SHOW:
        policy = selectors.policy_for(class_type_id=session.class_type_id)
        no_show_penalty_apply(
            booking=booking, session=session, policy=policy, memberships=memberships, actor=actor
        )
        fields.append("credit_held")
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
                    credit_return(booking, memberships)
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
                    no_show_penalty_apply(
                        booking=booking,
                        session=session,
                        policy=policy,
                        memberships=memberships,
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


def finished_settle(*, now: datetime | None = None) -> int:
    """The periodic settle job's body: finished classes, then finished appointments."""
    now = now or timezone.now()
    return bookings_settle_finished(now=now) + appointments_bill_finished(now=now)
