"""Moving one session to another time: daylight saving, what cannot be moved. (What a
move does to bookings, and the trainer-busy checks with personal training, are in
``bookings/tests/test_session_move.py``.)"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from classes import services
from classes.models import ClassSession
from gymsite.errors import ServiceError

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# The UK clocks go forward on Sunday 28 March 2027 and back on Sunday 31 October 2027.
FRIDAY_BEFORE = datetime(2027, 3, 26, 7, 0, tzinfo=UTC)  # 07:00 GMT
MOVED_AT = datetime(2027, 3, 21, 10, 0, tzinfo=UTC)


def test_clock_change_times(in_gym, session_factory, staff_user):
    session = session_factory(starts_at=FRIDAY_BEFORE)
    # 01:30 does not exist on 28 March 2027 in London (01:00 jumps to 02:00)
    with pytest.raises(ServiceError) as exc:
        services.session_move(
            session=session,
            local_date=date(2027, 3, 28),
            local_time=time(1, 30),
            actor=staff_user,
            now=MOVED_AT,
        )
    assert exc.value.code == "nonexistent_time" and exc.value.field == "start_time"
    assert ClassSession.objects.get(pk=session.pk).starts_at == FRIDAY_BEFORE
    # 01:30 happens twice on 31 October 2027: the first one (still summer time) is used
    moved = services.session_move(
        session=session,
        local_date=date(2027, 10, 31),
        local_time=time(1, 30),
        actor=staff_user,
        now=MOVED_AT,
    )
    assert moved.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_cannot_move_a_cancelled_or_started_class_or_into_the_past(
    in_gym, session_factory, staff_user
):
    session = session_factory(starts_at=FRIDAY_BEFORE)
    with pytest.raises(ServiceError) as exc:
        services.session_move(
            session=session,
            local_date=date(2027, 3, 20),
            local_time=time(7, 0),
            actor=staff_user,
            now=MOVED_AT,
        )
    assert exc.value.code == "in_the_past"
    with pytest.raises(ServiceError) as exc:
        services.session_move(
            session=session,
            local_date=date(2027, 3, 27),
            local_time=time(7, 0),
            actor=staff_user,
            now=FRIDAY_BEFORE + timedelta(minutes=5),
        )
    assert exc.value.code == "session_started"
    services.session_cancel(session=session, actor=staff_user)
    with pytest.raises(ServiceError) as exc:
        services.session_move(
            session=session,
            local_date=date(2027, 3, 27),
            local_time=time(7, 0),
            actor=staff_user,
            now=MOVED_AT,
        )
    assert exc.value.code == "session_cancelled"
