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
from functools import cache

from django.db import connection

from classes.locks import lock_session  # noqa: F401 (the session lock, in its order here)
from classes.models import ClassSession
from gymsite.models import OutboxMessage
from gymsite.outbox import message_insert_params, message_insert_sql
from memberships.models import Membership

from .models import Booking


def lock_memberships(membership_ids: Iterable[int | None]) -> dict[int, Membership]:
    ids = sorted({pk for pk in membership_ids if pk is not None})
    if not ids:
        return {}
    rows = Membership.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


def lock_bookings(booking_ids: Iterable[int]) -> dict[int, Booking]:
    """Bookings, locked in pk order (call only while holding their session's lock)."""
    ids = sorted(set(booking_ids))
    if not ids:
        return {}
    rows = Booking.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows}


# The booking row's columns as take_place writes them: the id first (read before,
# with the booking's context), every column but the arrival, which the UPDATE hands out.
_BOOKING_FIELDS = [Booking._meta.pk] + [
    f for f in Booking._meta.concrete_fields if f.attname not in ("id", "arrival")
]


@cache
def _take_place_sql(*, waitlisted: bool, with_message: bool) -> str:
    columns = ", ".join(f'"{f.column}"' for f in _BOOKING_FIELDS)
    placeholders = ", ".join(["%s"] * len(_BOOKING_FIELDS))
    counter = "waitlist_count" if waitlisted else "booked_count"
    room = "booked_count >= capacity" if waitlisted else "booked_count < capacity"
    # PostgreSQL runs every data-modifying CTE whether or not it is referenced.
    message = ""
    if with_message:
        message = f", message AS ({message_insert_sql(source='FROM booking')})"
    return f"""
        WITH claimed AS (
            UPDATE {ClassSession._meta.db_table}
               SET {counter} = {counter} + 1, arrival_seq = arrival_seq + 1
             WHERE id = %s AND organisation_id = %s AND status = %s AND starts_at > %s
               AND {room}
         RETURNING arrival_seq
        ), booking AS (
            INSERT INTO {Booking._meta.db_table} ({columns}, "arrival")
            SELECT {placeholders}, arrival_seq FROM claimed
            RETURNING arrival
        ){message}
        SELECT arrival FROM booking
    """  # noqa: S608 (names from the models, values are parameters)


def take_place(
    *, booking: Booking, waitlisted: bool, now, message: OutboxMessage | None
) -> int | None:
    """Take a place (or, with ``waitlisted``, a waitlist place) and write the booking
    and its email, all in one statement.

    The UPDATE of the session row succeeds only while ``booked_count < capacity``
    (``>=`` for a waitlist place) on the row's latest version: PostgreSQL re-checks
    the WHERE clause after waiting for the row lock, so two bookers can never both
    take the last place, and the lock serialises arrivals. The booking row takes the
    arrival number the UPDATE returned; the partial unique index on (session, member)
    rejects a second active booking, which undoes the whole statement. One statement
    keeps the session lock, which every booker of the class queues on, as short as
    a statement: the lock is released by the commit that immediately follows it.

    Returns the arrival number, or None when the session was not open for it
    (cancelled, started, full/not full): then nothing was changed.
    """
    sql = _take_place_sql(waitlisted=waitlisted, with_message=message is not None)
    params = [booking.session_id, booking.organisation_id, ClassSession.Status.SCHEDULED, now]
    params += [
        f.get_db_prep_save(f.pre_save(booking, add=True), connection) for f in _BOOKING_FIELDS
    ]
    if message is not None:
        params += message_insert_params(message)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None
