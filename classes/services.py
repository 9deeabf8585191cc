"""Class schedules and sessions: materialising, editing one session or a series.

The timetable's writes. What a change means for the apps standing on it (bookings:
places, credits, emails) is theirs: it is announced through ``classes.hooks`` in the
change's transaction, and nothing of theirs is imported here."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import trainer_missing_certifications
from accounts.services import audit_record
from gymsite.errors import Conflict, ServiceError

from . import hooks
from .locks import lock_room, lock_session, lock_trainer
from .models import ClassSchedule, ClassSession, Room
from .selectors import trainer_busy, trainer_busy_message, trainer_busy_times


def local_datetime(day: date, at, tz_name: str) -> datetime:
    """The instant a wall-clock time happens on a local day in a time zone.

    Built from the local date and time each time (never by adding 7 x 24 hours to
    last week's instant), so a 07:00 class is at 07:00 local on both sides of a
    daylight-saving change. A time that does not exist that day (inside the spring
    gap) resolves to the instant after the gap, as zoneinfo does with fold=0.
    """
    if isinstance(at, str):
        at = time.fromisoformat(at)
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz_name)).astimezone(ZoneInfo("UTC"))


def schedule_occurrences(schedule: ClassSchedule, *, start: date, end: date) -> list[date]:
    """Local dates (inclusive) on which the schedule runs, minus its exceptions."""
    first = max(start, schedule.starts_on)
    last = end if schedule.ends_on is None else min(end, schedule.ends_on)
    # A series being created (not saved yet) has no exceptions.
    skipped = {e.date for e in schedule.exceptions.all()} if schedule.pk else set()
    weekdays = set(schedule.weekdays)
    days = []
    day = first
    while day <= last:
        if day.weekday() in weekdays and day not in skipped:
            days.append(day)
        day += timedelta(days=1)
    return days


def _session_for(schedule: ClassSchedule, day: date) -> ClassSession:
    starts_at = local_datetime(day, schedule.start_time, schedule.branch.timezone)
    return ClassSession(
        organisation_id=schedule.organisation_id,
        branch_id=schedule.branch_id,
        class_type_id=schedule.class_type_id,
        schedule=schedule,
        occurrence_date=day,
        room_id=schedule.room_id,
        trainer_id=schedule.trainer_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
        capacity=schedule.capacity,
    )


@transaction.atomic
def schedule_materialise(
    *, schedule: ClassSchedule, weeks: int | None = None, today: date | None = None
) -> int:
    """Create the schedule's sessions up to ``weeks`` ahead. Idempotent: the unique
    (schedule, date) constraint makes a second run (or a concurrent one) add nothing."""
    weeks = weeks if weeks is not None else getattr(settings, "CLASSES_MATERIALISE_WEEKS", 6)
    tz = ZoneInfo(schedule.branch.timezone)
    today = today or timezone.now().astimezone(tz).date()
    horizon = today + timedelta(weeks=weeks)
    if not schedule.is_active:
        return 0
    start = today
    if schedule.materialised_until and schedule.materialised_until >= today:
        start = schedule.materialised_until + timedelta(days=1)
    days = schedule_occurrences(schedule, start=start, end=horizon)
    existing = set(
        ClassSession.objects.filter(schedule=schedule, occurrence_date__in=days).values_list(
            "occurrence_date", flat=True
        )
    )
    missing = [day for day in days if day not in existing]
    # ignore_conflicts: a concurrent run may have inserted the same (schedule, date).
    ClassSession.objects.bulk_create(
        [_session_for(schedule, day) for day in missing], ignore_conflicts=True
    )
    ClassSchedule.objects.filter(pk=schedule.pk).update(materialised_until=horizon)
    schedule.materialised_until = horizon
    return len(missing)


@transaction.atomic
def schedule_withdraw_skipped(
    *, schedule: ClassSchedule, actor: User | None, now: datetime | None = None
) -> int:
    """Cancel the series' sessions yet to come that it no longer runs: on a date that
    became an exception, or after a new end date. Their bookings are cancelled,
    credits returned and everyone told (``session_cancel``). Returns how many."""
    now = now or timezone.now()
    skipped = Q(occurrence_date__in=schedule.exceptions.values("date"))
    if schedule.ends_on is not None:
        skipped |= Q(occurrence_date__gt=schedule.ends_on)
    withdrawn = list(
        ClassSession.objects.filter(
            skipped,
            schedule=schedule,
            status=ClassSession.Status.SCHEDULED,
            starts_at__gt=now,
        ).values_list("pk", flat=True)
    )
    for session_id in withdrawn:
        with contextlib.suppress(Conflict):  # cancelled meanwhile
            session_cancel(session=session_id, actor=actor, reason=_("Not running that day"))
    return len(withdrawn)


def schedules_materialise_all(*, weeks: int | None = None) -> int:
    """The periodic job's body for the organisation in scope."""
    total = 0
    for schedule in ClassSchedule.objects.filter(is_active=True).select_related("branch"):
        total += schedule_materialise(schedule=schedule, weeks=weeks)
    return total


def _validate_room(room: Room | None, capacity: int, branch_id: int) -> None:
    if room is None:
        return
    if room.branch_id != branch_id:
        raise ServiceError(_("That room is in another branch."), code="room_branch", field="room")
    if capacity > room.capacity:
        raise ServiceError(
            _("The room holds at most %(n)s people.") % {"n": room.capacity},
            code="room_too_small",
            field="capacity",
        )


def _check_certified(trainer, class_type, day: date) -> None:
    """A class type's required certifications, held and unexpired on the day taught."""
    if trainer is None:
        return
    missing = trainer_missing_certifications(
        trainer=trainer, certification_ids=class_type.required_certifications.all(), on=day
    )
    if missing:
        raise ServiceError(
            _("%(trainer)s has no valid %(names)s certification for this class.")
            % {"trainer": trainer, "names": ", ".join(missing)},
            code="trainer_not_certified",
            field="trainer",
        )


def check_schedule_trainer_free(schedule: ClassSchedule, *, today: date | None = None) -> None:
    """Refuse a series whose trainer is busy (a class in any branch, or PT) at one of the
    sessions it would create now: ``Conflict`` naming the first day, beside ``trainer``."""
    if not schedule.trainer_id or not schedule.weekdays:
        return
    weeks = getattr(settings, "CLASSES_MATERIALISE_WEEKS", 6)
    tz = ZoneInfo(schedule.branch.timezone)
    today = today or timezone.now().astimezone(tz).date()
    sessions = [
        _session_for(schedule, day)
        for day in schedule_occurrences(schedule, start=today, end=today + timedelta(weeks=weeks))
    ]
    if not sessions:
        return
    # One query per kind of commitment over the whole span, then overlaps in Python.
    busy = trainer_busy_times(
        trainer_id=schedule.trainer_id,
        starts_at=sessions[0].starts_at,
        ends_at=sessions[-1].ends_at,
    )
    for session in sessions:
        if any(start < session.ends_at and end > session.starts_at for start, end in busy):
            raise Conflict(
                _("The trainer is busy elsewhere on %(day)s at %(time)s.")
                % {
                    "day": session.occurrence_date.strftime("%d/%m/%Y"),
                    "time": schedule.start_time.strftime("%H:%M"),
                },
                code="trainer_busy",
                field="trainer",
            )


@transaction.atomic
def schedule_create(*, actor: User | None, materialise: bool = True, **fields) -> ClassSchedule:
    class_type = fields["class_type"]
    fields.setdefault("duration_minutes", class_type.duration_minutes)
    fields.setdefault("capacity", class_type.default_capacity)
    if not fields.get("weekdays"):
        raise ServiceError(_("Pick at least one weekday."), code="invalid", field="weekdays")
    _validate_room(fields.get("room"), fields["capacity"], fields["branch"].pk)
    _check_certified(fields.get("trainer"), class_type, fields.get("starts_on") or date.today())
    schedule = ClassSchedule.objects.create(**fields)
    audit_record(actor=actor, action="schedule.create", target=schedule)
    if materialise:
        schedule_materialise(schedule=schedule)
    return schedule


@transaction.atomic
def session_update(
    *,
    session: ClassSession | int,
    actor: User | None,
    trainer=...,
    room=...,
    capacity: int | None = None,
    allow_trainer_clash: bool = False,
) -> ClassSession:
    """Edit one session: substitute trainer, another room, a new capacity.

    A substitute must be free then (``trainer_busy``, every branch); staff may book them
    anyway with ``allow_trainer_clash``, which the audit row records."""
    session_id = session if isinstance(session, int) else session.pk
    session = lock_session(session_id)
    if session.status == ClassSession.Status.CANCELLED:
        raise ServiceError(_("This class is cancelled."), code="session_cancelled")
    changed = []
    clash = None
    if trainer is not ... and trainer is not None and trainer.pk != session.trainer_id:
        lock_trainer(trainer.pk)
        clash = trainer_busy(
            trainer_id=trainer.pk,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            exclude_session_id=session.pk,
        )
        if clash is not None and not allow_trainer_clash:
            raise Conflict(trainer_busy_message(clash), code="trainer_busy", field="trainer")
    if trainer is not ...:
        _check_certified(trainer, session.class_type, session.occurrence_date)
        session.trainer = trainer
        changed.append("trainer")
    if room is not ...:
        _validate_room(room, capacity or session.capacity, session.branch_id)
        session.room = room
        changed.append("room")
    if changed:
        session.is_customised = True
        session.save(update_fields=[*changed, "is_customised"])
        audit_record(
            actor=actor,
            action="session.edit",
            target=session,
            data={"changed": changed, **({"trainer_clash_overridden": clash} if clash else {})},
        )
    if capacity is not None and capacity != session.capacity:
        session = session_set_capacity(session=session.pk, capacity=capacity, actor=actor)
        ClassSession.objects.filter(pk=session.pk).update(is_customised=True)
    return session


def _check_free_for(session: ClassSession, starts_at: datetime, ends_at: datetime) -> None:
    """The session's trainer and room must be free at the new time.

    The trainer's row is locked first (booking their personal training takes the same
    lock to check their classes), then the room's, so two moves, or a move and a PT
    booking, cannot both take the same free time. Both come after the session lock
    (the architecture's order: session, then the rows it needs).
    """
    if session.trainer_id:
        lock_trainer(session.trainer_id)
        busy = trainer_busy(
            trainer_id=session.trainer_id,
            starts_at=starts_at,
            ends_at=ends_at,
            exclude_session_id=session.pk,
        )
        if busy is not None:
            raise Conflict(trainer_busy_message(busy), code="trainer_busy", field="start_time")
    if session.room_id:
        lock_room(session.room_id)
        if (
            ClassSession.objects.filter(
                room_id=session.room_id,
                status=ClassSession.Status.SCHEDULED,
                starts_at__lt=ends_at,
                ends_at__gt=starts_at,
            )
            .exclude(pk=session.pk)
            .exists()
        ):
            raise Conflict(
                _("Another class uses the room then."), code="room_busy", field="start_time"
            )


@transaction.atomic
def session_move(
    *,
    session: ClassSession | int,
    local_date: date,
    local_time: time,
    actor: User | None,
    duration_minutes: int | None = None,
    now: datetime | None = None,
) -> ClassSession:
    """Move one session to another time, given as the branch's wall-clock date and time.

    The series is unchanged (the session keeps its ``occurrence_date``, so
    materialising does not create it again, and is marked ``is_customised``). Bookings
    and the waitlist stay; everyone on them is emailed the new time, their reminder
    is sent again for it, and those booked before the move may cancel free of charge
    until it starts. The trainer and the room must be free at the new time. A wall
    time that does not exist that day (the spring-forward gap) is refused; an
    ambiguous one (autumn) is its first occurrence.
    """
    now = now or timezone.now()
    session_id = session if isinstance(session, int) else session.pk
    session = lock_session(session_id)
    if session.status == ClassSession.Status.CANCELLED:
        raise ServiceError(_("This class is cancelled."), code="session_cancelled")
    if session.starts_at <= now:
        raise ServiceError(_("This class has already started."), code="session_started")
    if duration_minutes is None:
        duration_minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    if duration_minutes < 5:
        raise ServiceError(
            _("A class lasts at least 5 minutes."), code="invalid", field="duration_minutes"
        )
    tz_name = session.branch.timezone
    starts_at = local_datetime(local_date, local_time, tz_name)
    wall = starts_at.astimezone(ZoneInfo(tz_name))
    if (wall.date(), wall.time()) != (local_date, local_time):
        raise ServiceError(
            _("%(time)s does not exist on %(date)s: the clocks go forward that night.")
            % {"time": local_time.strftime("%H:%M"), "date": local_date.strftime("%d/%m/%Y")},
            code="nonexistent_time",
            field="start_time",
        )
    if starts_at <= now:
        raise ServiceError(_("Pick a time in the future."), code="in_the_past", field="start_time")
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    if (starts_at, ends_at) == (session.starts_at, session.ends_at):
        return session
    _check_free_for(session, starts_at, ends_at)
    moved_from = session.starts_at
    session.starts_at, session.ends_at = starts_at, ends_at
    session.moved_at = now
    session.is_customised = True
    session.save(update_fields=["starts_at", "ends_at", "moved_at", "is_customised"])
    audit = audit_record(
        actor=actor,
        action="session.move",
        target=session,
        data={"from": moved_from.isoformat(), "to": starts_at.isoformat()},
    )
    hooks.session_moved.announce(session=session, moved_from=moved_from, move_id=audit.pk)
    return session


@transaction.atomic
def session_cancel(
    *, session: ClassSession | int, actor: User | None, reason: str = ""
) -> ClassSession:
    """Cancel one session. Those on it hear of it through ``hooks.session_cancelled``
    (bookings cancels their places, returns credits and tells them)."""
    now = timezone.now()
    session_id = session if isinstance(session, int) else session.pk
    # Rows before the session in the lock order (memberships) are locked first.
    hooks.session_cancelling.announce(session_id=session_id)
    session = lock_session(session_id)
    if session.status == ClassSession.Status.CANCELLED:
        raise Conflict(_("This class is already cancelled."), code="already_cancelled")
    session.status = ClassSession.Status.CANCELLED
    session.cancellation_reason = reason
    session.save(update_fields=["status", "cancellation_reason"])
    hooks.session_cancelled.announce(session=session, actor=actor, now=now)
    audit_record(actor=actor, action="session.cancel", target=session, data={"reason": reason})
    return session


@transaction.atomic
def session_set_capacity(
    *, session: ClassSession | int, capacity: int, actor: User | None
) -> ClassSession:
    """Change the number of places; the apps on the timetable hear of it through
    ``hooks.session_resized`` (bookings moves people in from the waitlist at once)."""
    session_id = session if isinstance(session, int) else session.pk
    session = lock_session(session_id)
    if capacity < 1:
        raise ServiceError(_("A class needs at least one place."), code="invalid", field="capacity")
    # booked_count is bookings' to write; it is read here to refuse, beside the
    # field, what the class_session_not_overbooked constraint would reject anyway.
    if capacity < session.booked_count:
        raise ServiceError(
            _("%(n)s people are booked: capacity cannot go below that.")
            % {"n": session.booked_count},
            code="capacity_below_booked",
            field="capacity",
        )
    if session.room_id and capacity > session.room.capacity:
        raise ServiceError(
            _("The room holds at most %(n)s people.") % {"n": session.room.capacity},
            code="room_too_small",
            field="capacity",
        )
    session.capacity = capacity
    session.save(update_fields=["capacity"])
    audit_record(actor=actor, action="session.capacity", target=session, data={"to": capacity})
    hooks.session_resized.announce(session=session, actor=actor)
    return session


def _follow_series(
    session: ClassSession, series: ClassSchedule, *, actor: User | None, now: datetime
) -> None:
    """Give a created session its series' trainer, room and time. The trainer and
    room must be free then; a class that moves tells its members, who may cancel it
    free of charge (as for a one-off move)."""
    starts_at = local_datetime(session.occurrence_date, series.start_time, series.branch.timezone)
    ends_at = starts_at + timedelta(minutes=series.duration_minutes)
    session = lock_session(session.pk)
    moved_from = session.starts_at
    moves = (starts_at, ends_at) != (session.starts_at, session.ends_at)
    session.schedule, session.trainer, session.room = series, series.trainer, series.room
    session.starts_at, session.ends_at = starts_at, ends_at
    if moves or session.trainer_id or session.room_id:
        try:
            _check_free_for(session, starts_at, ends_at)
        except Conflict as exc:
            day = session.occurrence_date.strftime("%d/%m/%Y")
            raise Conflict(f"{day}: {exc.message}", code=exc.code, field=exc.field) from None
    fields = ["schedule", "trainer", "room", "starts_at", "ends_at"]
    if moves and moved_from > now:
        session.moved_at = now
        fields.append("moved_at")
    session.save(update_fields=fields)
    if moves and moved_from > now:
        audit = audit_record(
            actor=actor,
            action="session.move",
            target=session,
            data={"from": moved_from.isoformat(), "to": starts_at.isoformat(), "series": True},
        )
        hooks.session_moved.announce(session=session, moved_from=moved_from, move_id=audit.pk)


@transaction.atomic
def schedule_update_from(
    *,
    schedule: ClassSchedule,
    from_date: date,
    actor: User | None,
    **changes,
) -> ClassSchedule:
    """Change a series from a local date on; earlier sessions keep what they were.

    The series is split: the old schedule ends the day before ``from_date`` and a new
    one carries the change. Sessions already created from that date on move to the
    new schedule and take its trainer, room, time and capacity (their bookings
    stay); those on weekdays the new pattern no longer has are cancelled (credits
    returned, members told).
    """
    allowed = {"trainer", "room", "start_time", "duration_minutes", "capacity", "weekdays"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError(f"Cannot change {', '.join(sorted(unknown))}.", code="not_editable")
    schedule = ClassSchedule.objects.select_for_update().get(pk=schedule.pk)
    if schedule.ends_on is not None and from_date > schedule.ends_on:
        raise ServiceError(_("The series has ended by then."), code="invalid", field="from_date")
    capacity = changes.get("capacity", schedule.capacity)
    _validate_room(changes.get("room", schedule.room), capacity, schedule.branch_id)
    if changes.get("trainer") is not None:
        _check_certified(changes["trainer"], schedule.class_type, from_date)
    if "weekdays" in changes and not changes["weekdays"]:
        raise ServiceError(_("Pick at least one weekday."), code="invalid", field="weekdays")

    if from_date <= schedule.starts_on:
        target = schedule
        for field, value in changes.items():
            setattr(target, field, value)
        target.save()
    else:
        target = ClassSchedule.objects.get(pk=schedule.pk)
        target.pk = None
        target.id = None
        target._state.adding = True
        target.starts_on = from_date
        target.materialised_until = None
        for field, value in changes.items():
            setattr(target, field, value)
        target.save()
        for exception in schedule.exceptions.filter(date__gte=from_date):
            exception.schedule = target
            exception.save(update_fields=["schedule"])
        schedule.ends_on = from_date - timedelta(days=1)
        schedule.save(update_fields=["ends_on"])

    future = list(
        ClassSession.objects.filter(schedule=schedule, occurrence_date__gte=from_date)
        .select_related("branch")
        .order_by("occurrence_date")
    )
    weekdays = set(target.weekdays)
    now = timezone.now()
    for session in future:
        if session.occurrence_date.weekday() not in weekdays:
            if session.status == ClassSession.Status.SCHEDULED:
                session_cancel(session=session.pk, actor=actor, reason=_("Series changed"))
            ClassSession.objects.filter(pk=session.pk).update(schedule=None)
            continue
        if session.is_customised or session.status != ClassSession.Status.SCHEDULED:
            # A one-off edit (a substitute, a move) wins over the series; a cancelled
            # class stays as it was.
            ClassSession.objects.filter(pk=session.pk).update(schedule=target)
            continue
        _follow_series(session, target, actor=actor, now=now)
        if session.capacity != target.capacity:
            # More people booked than the new capacity: they keep their places.
            with contextlib.suppress(ServiceError):
                session_set_capacity(session=session.pk, capacity=target.capacity, actor=actor)
    target.materialised_until = None
    target.save(update_fields=["materialised_until"])
    schedule_materialise(schedule=target)
    audit_record(
        actor=actor,
        action="schedule.edit_from",
        target=target,
        data={"from": from_date.isoformat(), "changed": sorted(changes)},
    )
    return target
