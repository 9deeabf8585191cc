"""The member home's booking card: the next class (with cancel) and waitlist places."""

from django import template

from bookings import selectors
from bookings.models import Booking

register = template.Library()


@register.inclusion_tag("bookings/_home_card.html", takes_context=True)
def next_booking_card(context, member):
    upcoming = list(
        selectors.member_bookings(members=[member], upcoming=True).filter(
            status__in=[Booking.Status.BOOKED, Booking.Status.WAITLISTED]
        )[:10]
    )
    booked = [b for b in upcoming if b.status == Booking.Status.BOOKED]
    waitlisted = [b for b in upcoming if b.status == Booking.Status.WAITLISTED]
    positions = selectors.waitlist_positions(waitlisted)
    for booking in waitlisted:
        booking.position = positions.get(booking.pk)
    return {
        "next": booked[0] if booked else None,
        "more": len(booked) - 1 if booked else 0,
        "waitlisted": waitlisted,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
