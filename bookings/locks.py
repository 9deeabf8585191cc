"""Row locks for bookings, always taken in one order.

The architecture's order is **membership → class session → booking**. Every
service that changes a booking goes through these helpers, so two transactions
never wait on each other in opposite orders (no deadlocks between concurrent
bookings, cancellations, promotions and session cancellations):

1. the memberships whose credits may change, ordered by pk;
2. the class session (the row whose lock serialises everything about its places);
3. the session's bookings, ordered by pk.

Must be called inside ``transaction.atomic``.
"""

from __future__ import annotations

from collections.abc import Iterable

from classes.models import ClassSession
from memberships.models import Membership

from .models import Booking


def lock_memberships(membership_ids: Iterable[int | None]) -> dict[int, Membership]:
    ids = sorted({pk for pk in membership_ids if pk is not None})
    if not ids:
        return {}
    rows = Membership.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def lock_session(session_id: int) -> ClassSession:
    """The session row, locked: whoever holds it decides who gets its places."""
    return (
        ClassSession.objects.select_for_update(of=("self",))
        .select_related("branch", "class_type", "trainer")
        .get(pk=session_id)
    )


def lock_bookings(booking_ids: Iterable[int]) -> dict[int, Booking]:
    """Bookings, locked in pk order (call only while holding their session's lock)."""
    ids = sorted(set(booking_ids))
    if not ids:
        return {}
    rows = Booking.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}
