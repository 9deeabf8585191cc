"""The member's private iCalendar feed address."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Member
from bookings.models import CalendarFeed, _new_feed_token


@transaction.atomic
def calendar_feed_for(*, member: Member, reset: bool = False) -> CalendarFeed:
    feed, created = CalendarFeed.objects.get_or_create(member=member)
    if reset and not created:
        feed.token = _new_feed_token()
        feed.save(update_fields=["token"])
    return feed
