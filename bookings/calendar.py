"""The member's bookings and appointments as an iCalendar (RFC 5545) feed."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from accounts.selectors import household_members
from bookings.models import Appointment, Booking


def member_calendar(*, member, organisation) -> bytes:
    since = timezone.now() - timedelta(days=30)
    calendar = Calendar()
    calendar.add("prodid", "-//Spotter//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{organisation.name}")
    household = household_members(member=member)
    bookings = (
        Booking.objects.filter(
            member__in=household,
            status__in=(Booking.Status.BOOKED, Booking.Status.ATTENDED, Booking.Status.WAITLISTED),
            session__starts_at__gte=since,
        )
        .select_related(
            "member",
            "session",
            "session__class_type",
            "session__branch",
            "session__room",
            "session__trainer",
        )
        .order_by("session__starts_at")
    )
    for booking in bookings:
        session = booking.session
        event = Event()
        event.add("uid", f"booking-{booking.pk}@{settings.SITE_URL.split('//')[-1]}")
        title = session.class_type.name
        if booking.status == Booking.Status.WAITLISTED:
            title = f"{title} (waitlist)"
        if booking.member_id != member.pk:
            title = f"{title} — {booking.member.first_name}"
        event.add("summary", title)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("dtstamp", timezone.now())
        where = session.branch.name + (f", {session.room.name}" if session.room_id else "")
        event.add("location", where)
        if session.trainer_id:
            event.add("description", session.trainer.display_name)
        event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
        calendar.add_component(event)
    appointments = Appointment.objects.filter(
        member__in=household, status=Appointment.Status.BOOKED, starts_at__gte=since
    ).select_related("service", "trainer", "branch")
    for appointment in appointments:
        event = Event()
        event.add("uid", f"appointment-{appointment.pk}@{settings.SITE_URL.split('//')[-1]}")
        event.add("summary", f"{appointment.service.name} · {appointment.trainer.display_name}")
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("dtstamp", timezone.now())
        event.add("location", appointment.branch.name)
        calendar.add_component(event)
    return calendar.to_ical()
