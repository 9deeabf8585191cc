"""Row locks for bookings, always taken in one order.

The architecture's order is **membership → class session → booking**. Every
service that changes a booking goes through these helpers, so two transactions
never wait on each other in opposite orders (no deadlocks between concurrent
bookings, cancellations, promotions and session cancellations):

1. the memberships whose credits may change, ordered by pk;
2. the class session (the row whose lock serialises everything about its places);
3. the session's bookings, ordered by pk.

Must be called inside ``transaction.atomic``. Only locks: the writes made under
them are in ``bookings.services`` (the hot path's one-statement write is
``bookings.services.class_bookings.take_place``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from classes.locks import lock_session
from classes.models import ClassSession
from gymsite.errors import ServiceError
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


def lock_booking_chain(booking_id: int) -> tuple[Booking, ClassSession, dict[int, Membership]]:
    """Lock a booking with its membership and session, in the architecture's order."""
    current = Booking.objects.filter(pk=booking_id).values("membership_id", "session_id").first()
    if current is None:
        raise ServiceError(_("No such booking."), code="not_found")
    memberships = lock_memberships([current["membership_id"]])
    session = lock_session(current["session_id"])
    booking = lock_bookings([booking_id])[booking_id]
    return booking, session, memberships
