"""A member leaves a class or its waitlist: the credit back, or the late-cancel penalty."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from bookings import selectors
from bookings.locks import lock_booking_chain
from bookings.models import Booking, BookingPolicy
from bookings.penalties import booking_fee_charge, credit_return
from classes.models import ClassSession
from gymsite.errors import Conflict, ServiceError

from .waitlist import promote_waiting


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
    booking, session, memberships = lock_booking_chain(booking_id)
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
        credit_return(booking, memberships)
        counters = {"waitlist_count": F("waitlist_count") - 1}
        session.waitlist_count -= 1
    else:
        late = now > selectors.free_cancel_until(booking=booking, session=session, policy=policy)
        if not late or waive_penalty or policy.late_cancel_penalty == BookingPolicy.Penalty.NONE:
            credit_return(booking, memberships)
        if late:
            booking.status = Booking.Status.LATE_CANCELLED
            if policy.late_cancel_penalty == BookingPolicy.Penalty.FEE and not waive_penalty:
                booking.fee_charged = booking_fee_charge(
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
        promote_waiting(session, now=now)
    return booking
