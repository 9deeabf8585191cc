"""Reminder emails before a class, once per booking (and the periodic job for both
classes and appointments)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings import selectors
from bookings.appointments.services import appointments_send_reminders
from bookings.emails import booking_notify
from bookings.models import Booking
from classes.models import ClassSession


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
                booking_notify(
                    booking,
                    booking.session,
                    "reminder",
                    f"reminder-{int(booking.session.starts_at.timestamp())}",
                )
                sent += 1
    return sent


def reminders_send_due(*, now: datetime | None = None) -> int:
    """The periodic reminder job's body: classes and appointments, each once."""
    now = now or timezone.now()
    return bookings_send_reminders(now=now) + appointments_send_reminders(now=now)
