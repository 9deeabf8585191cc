"""Recurring schedules: materialising ahead, daylight saving, exceptions, series edits."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from classes import services
from classes.models import ClassSession
from classes.tests.factories import (
    ClassScheduleFactory,
    RoomFactory,
    ScheduleExceptionFactory,
    weekly_series,
)

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


def test_edit_one_session_substitute_trainer_and_capacity(in_gym, gym, branch, trainer):
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


def test_a_one_off_edit_wins_over_a_later_series_edit(in_gym, gym, branch, trainer):
    from accounts.tests.factories import TrainerProfileFactory

    # given a weekly series and, on one date, a substitute trainer
    schedule, sessions = weekly_series(gym, branch)
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

    schedule, sessions = weekly_series(gym, branch)
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


def test_the_schedule_form_leaves_the_pattern_to_the_series_edit(gym, branch, client_for, manager):
    from accounts.tenancy import tenant_scope

    with tenant_scope(gym):
        schedule = ClassScheduleFactory(organisation=gym, branch=branch)
    page = client_for(manager).get(f"/admin/classes/classschedule/{schedule.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="start_time"' not in html and 'name="weekdays"' not in html
    assert 'name="ends_on"' in html and "Change the series from a date on" in html
