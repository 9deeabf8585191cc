"""Spending a membership: class credits (bookings) and ticket entries (the door),
each taken with one conditional UPDATE."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gymsite.errors import ServiceError
from memberships.models import (
    Membership,
)

# --- credits and entries (used by bookings and access) -------------------------------


@transaction.atomic
def membership_consume_credit(*, membership: Membership) -> None:
    """Use one class credit, atomically; memberships without credits are unlimited.

    One conditional UPDATE: two bookings racing for the last credit cannot both win.
    """
    if membership.credits_remaining is None:
        return
    used = Membership.objects.filter(pk=membership.pk, credits_remaining__gt=0).update(
        credits_remaining=F("credits_remaining") - 1
    )
    if not used:
        raise ServiceError("No class credits left on this membership.", code="no_credits")
    membership.refresh_from_db(fields=["credits_remaining"])


@transaction.atomic
def membership_return_credit(*, membership: Membership) -> None:
    if membership.credits_remaining is None:
        return
    Membership.objects.filter(pk=membership.pk).update(credits_remaining=F("credits_remaining") + 1)
    membership.refresh_from_db(fields=["credits_remaining"])


@transaction.atomic
def membership_consume_entry(*, membership: Membership) -> None:
    """Use one visit of a limited-entry ticket, atomically; others are unlimited."""
    if membership.entries_remaining is None:
        return
    used = Membership.objects.filter(pk=membership.pk, entries_remaining__gt=0).update(
        # updated_at moves too: offline door devices sync the allow-list by it.
        entries_remaining=F("entries_remaining") - 1,
        updated_at=timezone.now(),
    )
    if not used:
        raise ServiceError("No entries left on this ticket.", code="no_entries_left")
    membership.refresh_from_db(fields=["entries_remaining"])
