"""Check-ins and check-outs: one short transaction each (see the package's docstring)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.utils import timezone

from access import selectors
from access.models import AccessDevice, AccessLog, AccessRequest, Reason, Result
from accounts.models import Branch, Member, User
from accounts.services import audit_record
from accounts.tenancy import tenant_scope
from bookings.models import Booking
from bookings.services import booking_mark_attended
from gymsite.db import single_statement
from gymsite.errors import ServiceError
from memberships.models import Membership
from memberships.services import membership_consume_entry

logger = logging.getLogger(__name__)


@dataclass
class CheckinOutcome:
    log: AccessLog
    replayed: bool = False  # a retry: the original attempt's decision is returned

    @property
    def granted(self) -> bool:
        return self.log.result == Result.GRANTED


_LOG_RELATIONS = {f.name: f for f in AccessLog._meta.concrete_fields if f.is_relation}


def _log(**fields) -> AccessLog:
    """An unsaved log row.

    Related rows are passed as objects and set by id, each object kept in the row's
    cache (the reply reads the member and membership without a query): assigning
    through a relation's descriptor asks the database routers about it, six times
    on every scan.
    """
    related = {name: fields.pop(name) for name in _LOG_RELATIONS.keys() & fields.keys()}
    for name, obj in related.items():
        fields[_LOG_RELATIONS[name].attname] = obj.pk if obj is not None else None
    log = AccessLog(**fields)
    for name, obj in related.items():
        _LOG_RELATIONS[name].set_cached_value(log, obj)
    return log


def _log_membership(log: AccessLog, membership: Membership | None) -> None:
    log.membership_id = membership.pk if membership is not None else None
    _LOG_RELATIONS["membership"].set_cached_value(log, membership)


@cache
def _log_insert_sql() -> tuple[str, tuple[str, ...]]:
    """The log row and, when it carries a request id, its key in ``AccessRequest``
    (the log is partitioned by time, so the once-per-device rule lives there), in
    one statement: a duplicate key fails both."""
    fields = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = (
        f"WITH request_key AS ("  # noqa: S608 (names from _meta)
        f"INSERT INTO {quote(AccessRequest._meta.db_table)} (device_id, request_id, occurred_at) "
        f"SELECT %s::bigint, %s::varchar, %s "
        f"WHERE %s::varchar IS NOT NULL AND %s::bigint IS NOT NULL) "
        f"INSERT INTO {quote(AccessLog._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"RETURNING {quote(AccessLog._meta.pk.column)}"
    )
    key = ("device_id", "request_id", "occurred_at", "request_id", "device_id")
    return sql, key + tuple(f.attname for f in fields)


def _insert(log: AccessLog) -> None:
    """``log.save(force_insert=True)`` as one prepared-once statement.

    Compiling the ORM's INSERT for the log's 17 columns cost a check-in more CPU
    than PostgreSQL spent running it. Every column is a plain value (ids, text,
    booleans, aware datetimes) that the driver adapts as the ORM would; the tenant
    check of ``TenantModel.save`` is kept. No save signals are sent: nothing listens
    to the log's.
    """
    log.check_scope_for_save()
    sql, attnames = _log_insert_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [getattr(log, attname) for attname in attnames])
        log.pk = cursor.fetchone()[0]
    log._state.adding = False
    log._state.db = DEFAULT_DB_ALIAS


def checkin_mark_attended(*, member: Member, branch: Branch, at: datetime) -> list[int]:
    """A door check-in marks the member's booking for a class about to start attended.

    Runs after the check-in has committed, each booking in its own transaction
    through ``bookings.services.booking_mark_attended`` (which locks membership →
    session → booking in the architecture's order; doing it inside the check-in's
    transaction could take two memberships' locks out of order). A booking that
    cannot be marked (too early, already marked) is left alone: attendance never
    blocks the door. Returns the bookings marked.
    """
    arrival = timedelta(minutes=selectors.policy_for(branch).class_arrival_minutes)
    session_ids = [
        session_id
        for session_id, starts_at, ends_at in selectors.sessions_soon(branch=branch, at=at)
        if starts_at <= at + arrival and ends_at > at
    ]
    if not session_ids:
        return []
    booking_ids = list(
        Booking.objects.filter(
            member_id=member.pk, status=Booking.Status.BOOKED, session_id__in=session_ids
        ).values_list("pk", flat=True)
    )
    marked = []
    for booking_id in booking_ids:
        try:
            with transaction.atomic():
                booking_mark_attended(booking=booking_id, actor=None, now=at)
        except ServiceError as exc:
            logger.info("check-in did not mark booking %s attended: %s", booking_id, exc.code)
        else:
            marked.append(booking_id)
    return marked


def _attendance_after_commit(member: Member, branch: Branch, at: datetime) -> None:
    with tenant_scope(branch.organisation_id):
        checkin_mark_attended(member=member, branch=branch, at=at)


def _record(
    log: AccessLog, decision: selectors.Decision | None, *, at: datetime, branch: Branch
) -> CheckinOutcome:
    """Write one attempt: the log row, and for a limited ticket the entry, atomically."""
    try:
        if decision is not None and decision.needs_entry:
            with transaction.atomic():
                _charge_entry(log, decision, at=at, branch=branch)
                _insert(log)
        else:
            # One INSERT: committed on its own, or in a savepoint inside a caller's
            # transaction so a duplicate leaves it usable.
            with single_statement():
                _insert(log)
    except IntegrityError:
        if log.request_id is None:
            raise
        original = AccessLog.objects.unscoped().get(device=log.device, request_id=log.request_id)
        return CheckinOutcome(log=original, replayed=True)
    if (
        log.result == Result.GRANTED
        and log.direction == AccessLog.Direction.ENTRY
        and log.member_id is not None
        and log.source != AccessLog.Source.OFFLINE
    ):
        member = log.member
        transaction.on_commit(partial(_attendance_after_commit, member, branch, at), robust=True)
    return CheckinOutcome(log=log)


def _charge_entry(
    log: AccessLog, decision: selectors.Decision, *, at: datetime, branch: Branch
) -> None:
    """Under the membership's row lock: same visit (no charge), one entry, or none left."""
    membership = Membership.objects.select_for_update().filter(pk=decision.membership.pk).first()
    policy = selectors.policy_for(branch)
    window = timedelta(minutes=policy.reentry_minutes)
    grants = selectors.recent_grants(
        member_id=decision.member.pk, branch_id=branch.pk, since=at - window, until=at + window
    )
    if selectors.same_visit_entry(
        grants=grants, membership_id=membership.pk, around=at, minutes=policy.reentry_minutes
    ):
        if log.source not in (AccessLog.Source.OFFLINE, AccessLog.Source.MANUAL):
            log.reason = Reason.REENTRY
        return
    try:
        membership_consume_entry(membership=membership)
    except ServiceError:
        if log.source in (AccessLog.Source.OFFLINE, AccessLog.Source.MANUAL):
            # The door already opened (offline) or staff let them in: record it
            # truthfully and charge nothing.
            log.note = (log.note + " · " if log.note else "") + "No entries left to charge."
            return
        log.result, log.reason = Result.DENIED, Reason.NO_ENTRIES_LEFT
        return
    log.entry_consumed = True
    log.membership = decision.membership = membership


def checkin_attempt(
    *,
    branch: Branch,
    presented: str,
    device: AccessDevice | None = None,
    direction: str | None = None,
    request_id: str | None = None,
    source: str = AccessLog.Source.ONLINE,
    staff: User | None = None,
    at: datetime | None = None,
) -> CheckinOutcome:
    """Decide and record one attempt to pass a door with a QR code or card.

    ``direction`` defaults to the device's (entry for two-way devices and the desk).
    """
    at = at or timezone.now()
    if direction is None:
        one_way = device is not None and device.direction != AccessDevice.Direction.BOTH
        direction = device.direction if one_way else AccessLog.Direction.ENTRY
    presented_as = selectors.credential_resolve(presented=presented, at=at)
    log = _log(
        organisation_id=branch.organisation_id,
        branch=branch,
        device=device,
        credential=presented_as.credential,
        member=presented_as.member,
        direction=direction,
        occurred_at=at,
        received_at=at,
        request_id=request_id,
        source=source,
        staff=staff,
    )
    if presented_as.reason is not None:
        log.result, log.reason = Result.DENIED, presented_as.reason
        if presented_as.credential is None:
            log.presented = presented.strip()[:24]
        return _record(log, None, at=at, branch=branch)
    member = presented_as.member
    if direction == AccessLog.Direction.EXIT:
        log.result, log.reason = Result.GRANTED, Reason.CHECKOUT
        return _record(log, None, at=at, branch=branch)
    decision = selectors.checkin_decide(
        member=member, branch=branch, at=at, entries_decided_later=True
    )
    log.result, log.reason = decision.result, decision.reason
    _log_membership(log, decision.membership)
    return _record(log, decision, at=at, branch=branch)


def checkin_member(
    *,
    member: Member,
    branch: Branch,
    staff: User,
    source: str = AccessLog.Source.KIOSK,
    at: datetime | None = None,
) -> CheckinOutcome:
    """Front desk: check a member in after looking them up, by the same rules as a door."""
    at = at or timezone.now()
    decision = selectors.checkin_decide(member=member, branch=branch, at=at)
    log = _log(
        organisation_id=branch.organisation_id,
        branch=branch,
        member=member,
        membership=decision.membership,
        result=decision.result,
        reason=decision.reason,
        occurred_at=at,
        received_at=at,
        source=source,
        staff=staff,
    )
    return _record(log, decision, at=at, branch=branch)


@transaction.atomic
def checkin_manual(
    *, member: Member, branch: Branch, staff: User, reason: str, at: datetime | None = None
) -> CheckinOutcome:
    """Front desk override: let a member in whatever the rules say, with a reason.

    Audited. A limited-entry ticket with entries left is still charged (once per
    visit); the override is for the person, not a free pass on their ticket.
    """
    reason = reason.strip()
    if not reason:
        raise ServiceError(
            "Say why you are checking this member in by hand.",
            code="reason_required",
            field="reason",
        )
    at = at or timezone.now()
    decision = selectors.checkin_decide(member=member, branch=branch, at=at, check_passback=False)
    membership = decision.membership
    log = _log(
        organisation_id=branch.organisation_id,
        branch=branch,
        member=member,
        membership=membership,
        result=Result.GRANTED,
        reason=Reason.MANUAL,
        occurred_at=at,
        received_at=at,
        source=AccessLog.Source.MANUAL,
        staff=staff,
        note=reason[:255],
    )
    charge = None
    if membership is not None and membership.entries_remaining is not None:
        charge = selectors.Decision(Result.GRANTED, Reason.MANUAL, member, membership, True)
    outcome = _record(log, charge, at=at, branch=branch)
    audit_record(
        actor=staff,
        action="access.manual_checkin",
        target=member,
        data={
            "branch": branch.pk,
            "reason": reason,
            "rules_said": decision.reason,
            "log": outcome.log.pk,
        },
    )
    return outcome


@transaction.atomic
def checkout_member(*, member: Member, branch: Branch, staff: User | None = None) -> AccessLog:
    """Record that a member left (front desk button, or an exit without a reader)."""
    now = timezone.now()
    return AccessLog.objects.create(
        organisation_id=branch.organisation_id,
        branch=branch,
        member=member,
        direction=AccessLog.Direction.EXIT,
        result=Result.GRANTED,
        reason=Reason.CHECKOUT,
        source=AccessLog.Source.MANUAL if staff else AccessLog.Source.ONLINE,
        staff=staff,
        occurred_at=now,
        received_at=now,
    )
