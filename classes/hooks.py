"""What the timetable tells the apps that stand on it.

classes owns class types, rooms, schedules and sessions, and imports nothing from the
apps above it. A change to the timetable can matter to them (a session cancelled,
moved or resized has bookings on it), so classes announces it here and they react:
each registers its handlers in its ``AppConfig.ready()`` (as billing takes its
paid-invoice handlers). Handlers run in the transaction that makes the change, in the
order they were registered; one that raises rolls the change back.

Beside the announcements, two registries the timetable consults:
``trainer_commitments`` (what else keeps a trainer busy, for "the trainer is busy")
and ``session_admin_inlines`` (rows shown on a session's admin page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Hook:
    """A list of handlers called with keyword arguments when the timetable changes."""

    name: str
    handlers: list[Callable[..., Any]] = field(default_factory=list)

    def register(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Add ``handler`` (once, however often ``ready()`` runs); usable as a decorator."""
        if handler not in self.handlers:
            self.handlers.append(handler)
        return handler

    def announce(self, **kwargs) -> None:
        for handler in self.handlers:
            handler(**kwargs)


# ``(*, session_id)``, before the session's row is locked to cancel it: lock the rows
# that come before a class session in the architecture's lock order (memberships).
session_cancelling = Hook("session_cancelling")
# ``(*, session, actor, now)``, under the session lock, once it is marked cancelled.
session_cancelled = Hook("session_cancelled")
# ``(*, session, moved_from, move_id)``, under the session lock, once its new time is
# saved (a one-off move or a series edit); ``move_id`` is unique to this move.
session_moved = Hook("session_moved")
# ``(*, session, actor)``, under the session lock, once its new capacity is saved.
session_resized = Hook("session_resized")


@dataclass(frozen=True)
class TrainerCommitment:
    """Something other than a class that takes a trainer's time.

    ``overlapping(*, trainer_id, starts_at, ends_at)`` returns a queryset of the rows
    (with ``starts_at`` and ``ends_at``) that overlap the time; ``busy_message`` is what
    a move of a class into that time is refused with.
    """

    kind: str
    overlapping: Callable[..., Any]
    busy_message: str


trainer_commitments: dict[str, TrainerCommitment] = {}


def trainer_commitment_register(commitment: TrainerCommitment) -> None:
    trainer_commitments[commitment.kind] = commitment


# Inline admin classes shown on a class session's admin page after its own fields.
session_admin_inlines: list[type] = []


def session_admin_inline_register(inline: type) -> type:
    """Add an inline to the session's admin page (once); usable as a decorator."""
    if inline not in session_admin_inlines:
        session_admin_inlines.append(inline)
    return inline
