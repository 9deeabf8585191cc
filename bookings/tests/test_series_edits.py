"""Series edits and exceptions with bookings on them: kept, moved or cancelled, members told."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import services as booking_services
from classes import services
from classes.models import ClassSession
from classes.tests.factories import ClassScheduleFactory, ScheduleExceptionFactory, weekly_series
from gymsite.models import OutboxMessage

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def test_edit_series_from_a_date(in_gym, gym, branch, trainer, make_member):
    from django.utils import timezone

    # given a Mon/Wed 07:00 series, materialised, with a booking on a later Wednesday
    today = timezone.localdate()
    schedule = ClassScheduleFactory(
        organisation=gym, branch=branch, weekdays=[0, 2], start_time=time(7, 0), starts_on=today
    )
    services.schedule_materialise(schedule=schedule, weeks=4, today=today)
    from_date = today + timedelta(days=7)
    later = ClassSession.objects.filter(schedule=schedule, occurrence_date__gte=from_date)
    wednesday = later.filter(occurrence_date__week_day=4).order_by("starts_at").first()
    monday = later.filter(occurrence_date__week_day=2).order_by("starts_at").first()
    from bookings.tests.factories import BookingPolicyFactory

    BookingPolicyFactory(organisation=gym, booking_opens_days=60)
    kept = booking_services.booking_create(session=wednesday, member=make_member(), actor=None)
    dropped = booking_services.booking_create(session=monday, member=make_member(), actor=None)
    earlier = list(ClassSession.objects.filter(schedule=schedule, occurrence_date__lt=from_date))

    # when the series moves to Wednesdays and Fridays at 08:00 with a new trainer from that date
    new = services.schedule_update_from(
        schedule=schedule,
        from_date=from_date,
        actor=None,
        weekdays=[2, 4],
        start_time=time(8, 0),
        trainer=trainer,
    )

    # then earlier sessions are untouched
    for session in earlier:
        fresh = ClassSession.objects.get(pk=session.pk)
        assert fresh.starts_at == session.starts_at and fresh.schedule_id == schedule.pk
    # the Wednesday moved to 08:00 local with the new trainer and kept its booking
    wednesday.refresh_from_db()
    assert wednesday.schedule == new and wednesday.trainer == trainer
    assert wednesday.starts_at.astimezone(LONDON).time() == time(8, 0)
    kept.refresh_from_db()
    assert kept.status == "booked"
    # and, having moved, it told its member (who may now cancel free of charge)
    assert wednesday.moved_at is not None
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"booking-{kept.pk}-moved-").exists()
    # the Monday is cancelled (its member told) and Fridays now exist
    monday.refresh_from_db()
    dropped.refresh_from_db()
    assert monday.status == "cancelled" and dropped.status == "cancelled"
    assert ClassSession.objects.filter(schedule=new, occurrence_date__week_day=6).exists()
    schedule.refresh_from_db()
    assert schedule.ends_on == from_date - timedelta(days=1)


def test_an_exception_added_later_cancels_that_days_class_and_tells_its_members(
    in_gym, gym, branch, make_member
):
    from bookings.tests.factories import BookingPolicyFactory

    BookingPolicyFactory(organisation=gym, booking_opens_days=60)
    schedule, sessions = weekly_series(gym, branch)
    booking = booking_services.booking_create(session=sessions[1], member=make_member(), actor=None)
    # when a bank holiday is added for that date, and the series ends a week later
    ScheduleExceptionFactory(organisation=gym, schedule=schedule, date=sessions[1].occurrence_date)
    schedule.ends_on = sessions[2].occurrence_date
    schedule.save(update_fields=["ends_on"])
    assert services.schedule_withdraw_skipped(schedule=schedule, actor=None) == 2
    # then that class and the ones after the end are cancelled, the booking with it
    statuses = [ClassSession.objects.get(pk=s.pk).status for s in sessions]
    assert statuses == ["scheduled", "cancelled", "scheduled", "cancelled"]
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert OutboxMessage.objects.filter(dedupe_key=f"booking-{booking.pk}-class-cancelled").exists()
