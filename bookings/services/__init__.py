"""Booking state changes, by topic. Each public function is one transaction.

- ``class_bookings``: taking a place or a waitlist place (the hot path, with its
  one-statement write);
- ``waitlist``: moving people into freed places;
- ``cancellation``: a member leaving a class or its waitlist;
- ``attendance``: attended / no-show, and settling finished classes;
- ``session_changes``: what a timetable change (``classes.hooks``) means for bookings;
- ``reminders``: reminder emails;
- ``calendar_feeds``: the member's iCalendar address;
- personal training: ``bookings.appointments.services`` (re-exported here).

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

from bookings.appointments.services import (
    APPOINTMENT_PRICE_SOURCE,
    appointment_book,
    appointment_cancel,
    appointment_mark,
    appointments_bill_finished,
    appointments_send_reminders,
)

from .attendance import (
    booking_mark_attended,
    booking_mark_no_show,
    bookings_settle_finished,
    finished_settle,
)
from .calendar_feeds import calendar_feed_for
from .cancellation import booking_cancel
from .class_bookings import SessionNotFound, booking_create
from .reminders import bookings_send_reminders, reminders_send_due
from .session_changes import (
    session_cancelled_bookings,
    session_cancelling_lock,
    session_moved_notify,
    session_resized_promote,
)
from .waitlist import booking_promote

__all__ = [
    "APPOINTMENT_PRICE_SOURCE",
    "SessionNotFound",
    "appointment_book",
    "appointment_cancel",
    "appointment_mark",
    "appointments_bill_finished",
    "appointments_send_reminders",
    "booking_cancel",
    "booking_create",
    "booking_mark_attended",
    "booking_mark_no_show",
    "booking_promote",
    "bookings_send_reminders",
    "bookings_settle_finished",
    "calendar_feed_for",
    "finished_settle",
    "reminders_send_due",
    "session_cancelled_bookings",
    "session_cancelling_lock",
    "session_moved_notify",
    "session_resized_promote",
]
