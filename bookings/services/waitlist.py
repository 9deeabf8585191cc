"""The waitlist: people moved into freed places, first come first served, or by staff."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from bookings import selectors
from bookings.emails import booking_notify_promoted
from bookings.locks import lock_booking_chain, lock_bookings
from bookings.models import Booking
from classes.models import ClassSession
from gymsite.errors import Conflict

from .class_bookings import check_bookable


def promote_waiting(session: ClassSession, *, now: datetime, force: bool = False) -> list[Booking]:
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
            booking_notify_promoted(booking, session, policy)
    return promoted


@transaction.atomic
def booking_promote(*, booking: Booking | int, actor: User | None) -> Booking:
    """Staff move one waitlisted person into a free place, ahead of the queue."""
    now = timezone.now()
    booking_id = booking if isinstance(booking, int) else booking.pk
    booking, session, _memberships = lock_booking_chain(booking_id)
    if booking.status != Booking.Status.WAITLISTED:
        raise Conflict(_("Only a waitlisted booking can be promoted."), code="not_waitlisted")
    if session.booked_count >= session.capacity:
        raise Conflict(
            _("The class is full: raise its capacity first."), code="session_full", field=None
        )
    check_bookable(session, now)
    booking.status = Booking.Status.BOOKED
    booking.promoted_at = now
    booking.save(update_fields=["status", "promoted_at"])
    ClassSession.objects.filter(pk=session.pk).update(
        booked_count=F("booked_count") + 1, waitlist_count=F("waitlist_count") - 1
    )
    audit_record(actor=actor, action="booking.promote", target=booking)
    booking_notify_promoted(
        booking, session, selectors.policy_for(class_type_id=session.class_type_id)
    )
    return booking
