"""Read-side questions about the timetable."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from . import hooks
from .models import ClassSession

CLASS = "class"


def trainer_classes(
    *, trainer_id: int, starts_at: datetime, ends_at: datetime, exclude_session_id=None
):
    """The trainer's scheduled classes that overlap the time (back to back is free), in
    every branch: a branch manager's scope would otherwise hide the other branches'
    classes and let the trainer be booked in two places at once."""
    classes = ClassSession.objects.across_branches().filter(
        trainer_id=trainer_id,
        status=ClassSession.Status.SCHEDULED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude_session_id is not None:
        classes = classes.exclude(pk=exclude_session_id)
    return classes


def _sources(exclude_session_id=None) -> dict:
    def classes(*, trainer_id, starts_at, ends_at):
        return trainer_classes(
            trainer_id=trainer_id,
            starts_at=starts_at,
            ends_at=ends_at,
            exclude_session_id=exclude_session_id,
        )

    return {
        CLASS: classes,
        **{kind: c.overlapping for kind, c in hooks.trainer_commitments.items()},
    }


def trainer_busy(
    *,
    trainer_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_session_id: int | None = None,
    order: tuple[str, ...] | None = None,
) -> str | None:
    """The one "is the trainer busy then?": what of theirs overlaps the time, as its
    kind (``CLASS``, or a kind registered in ``hooks.trainer_commitments``, such as
    bookings' ``"appointment"``), else None.

    Kinds are asked in ``order`` (classes first by default) and the first that
    overlaps answers. Before a write that takes the time, lock the trainer's row
    (``classes.locks.lock_trainer``) so a concurrent taker waits for it.
    """
    sources = _sources(exclude_session_id)
    for kind in order or tuple(sources):
        rows = sources[kind](trainer_id=trainer_id, starts_at=starts_at, ends_at=ends_at)
        if rows.exists():
            return kind
    return None


def trainer_busy_message(kind: str) -> str:
    """Why a class cannot move to a time its trainer is busy (``trainer_busy``'s kind)."""
    if kind == CLASS:
        return _("The trainer teaches another class then.")
    return str(hooks.trainer_commitments[kind].busy_message)


def trainer_busy_times(
    *, trainer_id: int, starts_at: datetime, ends_at: datetime
) -> list[tuple[datetime, datetime]]:
    """Every (start, end) of the trainer's classes and other commitments overlapping
    the time, one query per kind (for offering free slots)."""
    busy = []
    for source in _sources().values():
        rows = source(trainer_id=trainer_id, starts_at=starts_at, ends_at=ends_at)
        busy += list(rows.values_list("starts_at", "ends_at"))
    return busy
