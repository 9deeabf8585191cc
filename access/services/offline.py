"""Decisions a device made offline, uploaded and applied later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from access import selectors
from access.models import AccessDevice, AccessLog, Result
from access.services.checkin import _log, _record


@dataclass(frozen=True)
class OfflineEvent:
    request_id: str
    presented: str
    occurred_at: datetime
    direction: str
    result: str
    reason: str


@dataclass(frozen=True)
class OfflineOutcome:
    request_id: str
    status: str  # applied | duplicate
    entry_consumed: bool
    log_id: int


def offline_events_apply(
    *, device: AccessDevice, events: list[OfflineEvent]
) -> list[OfflineOutcome]:
    """Apply decisions a device made while offline, each at most once.

    The device's decision stands (the door already opened or stayed shut): a grant
    on a limited-entry ticket consumes an entry unless that visit was already
    charged (an online check-in or another offline grant within the re-entry
    window), and the unique (device, request_id) makes a re-upload a no-op.
    """
    branch = device.branch
    now = timezone.now()
    outcomes = []
    for event in sorted(events, key=lambda e: e.occurred_at):
        presented_as = selectors.credential_resolve(presented=event.presented, at=event.occurred_at)
        log = _log(
            organisation_id=device.organisation_id,
            branch=branch,
            device=device,
            credential=presented_as.credential,
            member=presented_as.member,
            direction=event.direction,
            occurred_at=event.occurred_at,
            received_at=now,
            request_id=event.request_id,
            source=AccessLog.Source.OFFLINE,
            result=event.result,
            reason=event.reason,
        )
        if presented_as.credential is None:
            log.presented = event.presented.strip()[:24]
        decision = None
        is_entry_grant = (
            event.result == Result.GRANTED
            and event.direction == AccessLog.Direction.ENTRY
            and presented_as.member is not None
        )
        if is_entry_grant:
            # Charged to the membership the door would have let them in on.
            membership = selectors.membership_admitting(
                member_id=presented_as.member.pk, branch=branch, at=event.occurred_at
            )
            log.membership = membership
            if membership is not None and membership.entries_remaining is not None:
                decision = selectors.Decision(
                    Result.GRANTED, event.reason, presented_as.member, membership, True
                )
        outcome = _record(log, decision, at=event.occurred_at, branch=branch)
        outcomes.append(
            OfflineOutcome(
                request_id=event.request_id,
                status="duplicate" if outcome.replayed else "applied",
                entry_consumed=outcome.log.entry_consumed,
                log_id=outcome.log.pk,
            )
        )
    return outcomes
