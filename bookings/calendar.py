"""The member's bookings and appointments as an iCalendar (RFC 5545) feed."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from accounts.selectors import household_members
from bookings.models import Appointment, Booking
from classes.models import ClassSession


def member_calendar(*, member, organisation) -> bytes:
    since = timezone.now() - timedelta(days=30)
    calendar = Calendar()
    calendar.add("prodid", "-//Spotter//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{organisation.name}")
    household = household_members(member=member)
    live = (Booking.Status.BOOKED, Booking.Status.ATTENDED, Booking.Status.WAITLISTED)
    bookings = (
        Booking.objects.filter(
            # a class the gym cancelled stays in the feed, marked cancelled, so calendar
            # apps take it out of the member's day
            Q(status__in=live)
            | Q(status=Booking.Status.CANCELLED, session__status=ClassSession.Status.CANCELLED),
            member__in=household,
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
            title = _("%(class)s (waitlist)") % {"class": title}
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
