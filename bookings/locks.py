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

from django.db import connection

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


def claim_place(
    *, session_id: int, organisation_id: int, now, waitlist_enabled: bool
) -> tuple[int, bool] | None:
    """Take a place, or else a waitlist place, with conditional UPDATEs on the session row.

    The first UPDATE succeeds only while ``booked_count < capacity`` on the row's
    latest version (PostgreSQL re-checks the WHERE clause after waiting for the row
    lock), so two bookers can never both take the last place; the row stays locked
    until commit, serialising arrivals. Returns ``(arrival, booked)``, or None when
    the session is not open for booking (cancelled, started) or is full with no
    waitlist: nothing was changed and the caller reads the session to say why.

    One statement instead of lock-then-update keeps the session lock, which every
    booking of the class queues on, held as briefly as possible.
    """
    table = ClassSession._meta.db_table
    where = "id = %s AND organisation_id = %s AND status = %s AND starts_at > %s"
    params = [session_id, organisation_id, ClassSession.Status.SCHEDULED, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET booked_count = booked_count + 1, "  # noqa: S608
            f"arrival_seq = arrival_seq + 1 WHERE {where} AND booked_count < capacity "
            "RETURNING arrival_seq",
            params,
        )
        row = cursor.fetchone()
        if row:
            return row[0], True
        if not waitlist_enabled:
            return None
        cursor.execute(
            f"UPDATE {table} SET waitlist_count = waitlist_count + 1, "  # noqa: S608
            f"arrival_seq = arrival_seq + 1 WHERE {where} AND booked_count >= capacity "
            "RETURNING arrival_seq",
            params,
        )
        row = cursor.fetchone()
    return (row[0], False) if row else None
