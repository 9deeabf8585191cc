"""Row locks for the timetable.

A class session's row is the lock that serialises everything about it: its time,
its capacity and (for bookings, which stand on the timetable) its places. The
architecture's order is **membership → class session → booking**, so whoever needs
memberships locked takes them before calling ``lock_session``; a trainer's or a
room's row comes after the session (``classes.selectors.trainer_busy``).

Must be called inside ``transaction.atomic``.
"""

from __future__ import annotations

from accounts.models import TrainerProfile

from .models import ClassSession, Room


def lock_session(session_id: int) -> ClassSession:
    """The session row, locked: whoever holds it decides its time, size and places."""
    return (
        ClassSession.objects.select_for_update(of=("self",))
        .select_related("branch", "class_type", "trainer")
        .get(pk=session_id)
    )


def lock_trainer(trainer_id: int) -> None:
    """The trainer's row, locked: moves of their classes and bookings of their personal
    training queue here, so two of them cannot both take the same free time."""
    TrainerProfile.objects.select_for_update().get(pk=trainer_id)


def lock_room(room_id: int) -> None:
    """The room's row, locked (after the trainer's): two moves cannot both take it."""
    Room.objects.select_for_update().get(pk=room_id)
