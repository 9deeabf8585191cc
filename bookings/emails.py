"""The emails a booking sends (through the outbox), and whom they reach."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import dateformat

from accounts.models import Member
from bookings import selectors
from bookings.models import Booking, BookingPolicy
from classes.models import ClassSession
from gymsite.models import OutboxMessage
from gymsite.outbox import email_message, outbox_record


def recipient(member: Member) -> str | None:
    """Dependants without an email of their own are reached through their payer."""
    if member.email:
        return member.email
    if member.payer_id and member.payer.email:
        return member.payer.email
    return None


def booking_email_context(booking: Booking, session: ClassSession) -> dict:
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


def booking_email(
    booking: Booking,
    session: ClassSession,
    template: str,
    dedupe: str = "new",
    extra: dict | None = None,
) -> OutboxMessage | None:
    to = recipient(booking.member)
    if not to:
        return None
    return email_message(
        to=to,
        template=f"bookings/{template}",
        context={**booking_email_context(booking, session), **(extra or {})},
        organisation_id=booking.organisation_id,
        dedupe_key=f"booking-{booking.pk}-{dedupe}",
        render_at_delivery=True,
    )


def booking_notify(
    booking: Booking, session: ClassSession, template: str, dedupe: str, extra: dict | None = None
) -> None:
    message = booking_email(booking, session, template, dedupe, extra)
    if message is not None:
        outbox_record(message)


def booking_notify_promoted(booking: Booking, session: ClassSession, policy: BookingPolicy) -> None:
    """Tell them they are in, and until when they can still give the place up free."""
    free_until = selectors.free_cancel_until(booking=booking, session=session, policy=policy)
    local = free_until.astimezone(ZoneInfo(session.branch.timezone))
    extra = {"free_cancel_until": dateformat.format(local, "l j F Y, H:i")}
    if free_until == session.starts_at:
        extra = {"free_cancel_until_start": True}
    booking_notify(booking, session, "promoted", "promoted", extra)
