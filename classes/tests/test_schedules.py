"""Recurring schedules: materialising ahead, daylight saving, exceptions, series edits."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings import services as booking_services
from classes import services
from classes.models import ClassSession
from classes.tests.factories import ClassScheduleFactory, RoomFactory, ScheduleExceptionFactory
from gymsite.models import OutboxMessage

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def test_a_7am_class_stays_at_7am_local_across_both_dst_changes(in_gym, gym, branch):
    # given a Sunday 07:00 class in London from before the spring change to after the autumn one
    schedule = ClassScheduleFactory(
        organisation=gym,
        branch=branch,
        weekdays=[6],
        start_time=time(7, 0),
        starts_on=date(2026, 3, 1),
    )
    # when sessions are created for the year
    services.schedule_materialise(schedule=schedule, weeks=40, today=date(2026, 3, 1))
    sessions = list(ClassSession.objects.filter(schedule=schedule).order_by("starts_at"))
    # then every one starts at 07:00 London time, at 07:00 UTC in winter and 06:00 UTC in summer
    assert {s.starts_at.astimezone(LONDON).time() for s in sessions} == {time(7, 0)}
    by_date = {s.occurrence_date: s.starts_at.astimezone(ZoneInfo("UTC")).hour for s in sessions}
    assert by_date[date(2026, 3, 22)] == 7  # before the clocks go forward (29 March)
    assert by_date[date(2026, 3, 29)] == 6  # the change day itself
    assert by_date[date(2026, 10, 18)] == 6
    assert by_date[date(2026, 10, 25)] == 7  # clocks went back that night
    assert all(s.ends_at - s.starts_at == timedelta(minutes=60) for s in sessions)


def test_branch_time_zone_is_used(in_gym, gym):
    from accounts.tests.factories import BranchFactory

    new_york = BranchFactory(organisation=gym, timezone="America/New_York")
    schedule = ClassScheduleFactory(
        organisation=gym,
        branch=new_york,
        weekdays=[0],
        start_time=time(18, 30),
        starts_on=date(2026, 3, 2),
    )
    services.schedule_materialise(schedule=schedule, weeks=2, today=date(2026, 3, 2))
    # US clocks change on 8 March 2026
    times = [
        s.starts_at.astimezone(ZoneInfo("UTC")).hour
        for s in ClassSession.objects.filter(schedule=schedule).order_by("starts_at")
    ]
    assert times == [23, 22, 22]


def test_materialise_is_idempotent_and_keeps_n_weeks_ahead(in_gym, gym, branch):
    schedule = ClassScheduleFactory(
        organisation=gym, branch=branch, weekdays=[0, 2, 4], starts_on=date(2026, 1, 5)
    )
    services.schedule_materialise(schedule=schedule, weeks=2, today=date(2026, 1, 5))
    assert ClassSession.objects.filter(schedule=schedule).count() == 7  # 5 Jan … 19 Jan inclusive
    # when the job runs again the same day, nothing is added; a week later, one more week
    services.schedule_materialise(schedule=schedule, weeks=2, today=date(2026, 1, 5))
    schedule.materialised_until = None  # even forgetting progress cannot duplicate
    services.schedule_materialise(schedule=schedule, weeks=2, today=date(2026, 1, 5))
    assert ClassSession.objects.filter(schedule=schedule).count() == 7
    services.schedule_materialise(schedule=schedule, weeks=2, today=date(2026, 1, 12))
    assert ClassSession.objects.filter(schedule=schedule).count() == 10


def test_exceptions_and_end_date_are_respected(in_gym, gym, branch):
    schedule = ClassScheduleFactory(
        organisation=gym,
        branch=branch,
        weekdays=[0],
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 1, 26),
    )
    ScheduleExceptionFactory(organisation=gym, schedule=schedule, date=date(2026, 1, 12))
    services.schedule_materialise(schedule=schedule, weeks=8, today=date(2026, 1, 5))
    dates = sorted(
        ClassSession.objects.filter(schedule=schedule).values_list("occurrence_date", flat=True)
    )
    assert dates == [date(2026, 1, 5), date(2026, 1, 19), date(2026, 1, 26)]


def test_edit_one_session_substitute_trainer_and_capacity(
    in_gym, gym, branch, trainer, make_member
):
    from django.utils import timezone

    schedule = ClassScheduleFactory(organisation=gym, branch=branch, weekdays=list(range(7)))
    services.schedule_materialise(schedule=schedule, weeks=1, today=timezone.localdate())
    session = ClassSession.objects.filter(schedule=schedule).order_by("starts_at")[2]
    # when one session gets a substitute trainer and 25 places
    services.session_update(session=session, actor=None, trainer=trainer, capacity=25)
    # then only that session changed, and it is marked as edited on its own
    session.refresh_from_db()
    assert (session.trainer, session.capacity, session.is_customised) == (trainer, 25, True)
    assert ClassSession.objects.filter(schedule=schedule, capacity=20).count() >= 5


def test_room_must_be_big_enough_and_in_the_branch(in_gym, gym, branch, other_branch):
    from django.utils import timezone

    from gymsite.errors import ServiceError

    schedule = ClassScheduleFactory(organisation=gym, branch=branch, weekdays=list(range(7)))
    services.schedule_materialise(schedule=schedule, weeks=1, today=timezone.localdate())
    session = ClassSession.objects.filter(schedule=schedule).first()
    with pytest.raises(ServiceError) as exc:
        services.session_update(
            session=session,
            actor=None,
            room=RoomFactory(organisation=gym, branch=branch, capacity=10),
        )
    assert exc.value.code == "room_too_small"
    with pytest.raises(ServiceError) as exc:
        services.session_update(
            session=session, actor=None, room=RoomFactory(organisation=gym, branch=other_branch)
        )
    assert exc.value.code == "room_branch"


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


def _weekly_series(gym, branch, **fields):
    from django.utils import timezone

    today = timezone.localdate()
    schedule = ClassScheduleFactory(
        organisation=gym, branch=branch, weekdays=[today.weekday()], starts_on=today, **fields
    )
    services.schedule_materialise(schedule=schedule, weeks=4, today=today)
    sessions = list(
        ClassSession.objects.filter(schedule=schedule, occurrence_date__gt=today).order_by(
            "starts_at"
        )
    )
    return schedule, sessions


def test_a_one_off_edit_wins_over_a_later_series_edit(in_gym, gym, branch, trainer):
    from accounts.tests.factories import TrainerProfileFactory

    # given a weekly series and, on one date, a substitute trainer
    schedule, sessions = _weekly_series(gym, branch)
    substitute = TrainerProfileFactory(organisation=gym)
    services.session_update(session=sessions[1], actor=None, trainer=substitute)
    # when the series gets a new trainer and time from the first of those dates
    services.schedule_update_from(
        schedule=schedule,
        from_date=sessions[0].occurrence_date,
        actor=None,
        trainer=trainer,
        start_time=time(9, 0),
    )
    # then the edited session keeps its substitute and its time; the others follow
    one_off = ClassSession.objects.get(pk=sessions[1].pk)
    assert one_off.trainer == substitute and one_off.starts_at == sessions[1].starts_at
    follows = ClassSession.objects.get(pk=sessions[2].pk)
    assert follows.trainer == trainer
    assert follows.starts_at.astimezone(LONDON).time() == time(9, 0)


def test_a_series_edit_refuses_a_time_the_trainer_is_busy(in_gym, gym, branch, trainer):
    from classes.tests.factories import ClassSessionFactory
    from gymsite.errors import Conflict

    schedule, sessions = _weekly_series(gym, branch)
    day = sessions[1].occurrence_date
    from classes.services import local_datetime

    busy_from = local_datetime(day, time(9, 0), branch.timezone)
    ClassSessionFactory(organisation=gym, branch=branch, trainer=trainer, starts_at=busy_from)
    with pytest.raises(Conflict) as refused:
        services.schedule_update_from(
            schedule=schedule,
            from_date=sessions[0].occurrence_date,
            actor=None,
            trainer=trainer,
            start_time=time(9, 0),
        )
    assert refused.value.code == "trainer_busy" and day.strftime("%d/%m/%Y") in str(
        refused.value.message
    )
    # and nothing changed
    assert ClassSession.objects.get(pk=sessions[0].pk).starts_at == sessions[0].starts_at


def test_an_exception_added_later_cancels_that_days_class_and_tells_its_members(
    in_gym, gym, branch, make_member
):
    from bookings.tests.factories import BookingPolicyFactory

    BookingPolicyFactory(organisation=gym, booking_opens_days=60)
    schedule, sessions = _weekly_series(gym, branch)
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


def test_the_schedule_form_leaves_the_pattern_to_the_series_edit(gym, branch, client_for, manager):
    from accounts.tenancy import tenant_scope

    with tenant_scope(gym):
        schedule = ClassScheduleFactory(organisation=gym, branch=branch)
    page = client_for(manager).get(f"/admin/classes/classschedule/{schedule.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="start_time"' not in html and 'name="weekdays"' not in html
    assert 'name="ends_on"' in html and "Change the series from a date on" in html
