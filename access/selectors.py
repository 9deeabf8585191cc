"""Read-side of access control: who is presenting what, and may they come in.

The check-in decision reads the live membership rows on every attempt (through
``memberships.selectors``): a freeze, cancellation, expiry or missed payment
refuses the very next check-in, with no cache to go stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from access import cache as config_cache
from access import credentials as creds
from access.models import AccessDevice, AccessLog, AccessPolicy, Credential, Reason, Result
from accounts.models import Branch, Member, OpeningHours
from accounts.tenancy import require_scope, tenant_scope
from classes.models import ClassSession
from gymsite.db import loaded_instance, select_list
from memberships.models import Membership, Plan
from memberships.selectors import (
    Refusal,
    Use,
    member_memberships,
    membership_candidates,
    membership_refusal,
    memberships_ranked,
    plan_branch_ids,
    plan_lists_attach,
)

DEFAULT_POLICY = AccessPolicy(
    anti_passback_minutes=0, reentry_minutes=240, class_arrival_minutes=30, occupancy_hours=4
)

# The plan rules' refusals (``memberships.selectors.membership_refusal``) as the
# reasons the access log stores and staff read. A class's category and credits are
# never asked at the door.
REFUSAL_REASONS = {
    Refusal.NO_MEMBERSHIP: Reason.NO_MEMBERSHIP,
    Refusal.PENDING: Reason.PENDING,
    Refusal.FROZEN: Reason.FROZEN,
    Refusal.PAST_DUE: Reason.PAST_DUE,
    Refusal.SUSPENDED: Reason.SUSPENDED,
    Refusal.CANCELLED: Reason.CANCELLED,
    Refusal.EXPIRED: Reason.EXPIRED,
    Refusal.TICKET_NOT_YET_VALID: Reason.PENDING,
    Refusal.TICKET_EXPIRED: Reason.EXPIRED,
    Refusal.BRANCH: Reason.BRANCH_NOT_INCLUDED,
    Refusal.TIME: Reason.OUTSIDE_PLAN_HOURS,
    Refusal.NO_ENTRIES: Reason.NO_ENTRIES_LEFT,
}


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def branch_local(branch: Branch, at: datetime) -> datetime:
    return at.astimezone(_zone(branch.timezone))


def policy_for(branch: Branch) -> AccessPolicy:
    """The branch's policy (already joined when the device was authenticated)."""
    try:
        return branch.access_policy
    except AccessPolicy.DoesNotExist:
        return DEFAULT_POLICY


# --- Devices -------------------------------------------------------------------


def device_for_key_prefix(*, prefix: str) -> AccessDevice | None:
    """The device owning a key prefix, in any gym: it is how a device says who it is.

    Joins the branch and its access policy, so the check-in needs no further query
    for them.
    """
    return (
        AccessDevice.objects.unscoped()
        .select_related("branch", "branch__access_policy")
        .only(*_DEVICE_FIELDS)
        .filter(key_prefix=prefix)
        .first()
    )


# The columns a check-in reads: loading (and compiling SQL for) every column of the
# joined rows was a measurable share of a check-in's CPU time.
_DEVICE_FIELDS = (
    *(f.name for f in AccessDevice._meta.concrete_fields),
    "branch__id",
    "branch__organisation_id",
    "branch__name",
    "branch__timezone",
    "branch__is_active",
    *(f"branch__access_policy__{f.name}" for f in AccessPolicy._meta.concrete_fields),
)
# --- Credentials ---------------------------------------------------------------


@dataclass(frozen=True)
class Presented:
    """What a credential turned out to be."""

    credential: Credential | None
    reason: str | None  # None when it identifies an active member's credential

    @property
    def member(self) -> Member | None:
        return self.credential.member if self.credential else None


def credential_resolve(*, presented: str, at: datetime | None = None) -> Presented:
    """Identify a scanned QR payload or card number.

    One indexed query, which also brings the member and their membership rows (read
    live, in the same statement) for the decision that follows. ``at`` is when it
    was presented: now for a live scan, the device's time for an offline decision
    uploaded later.
    """
    text = presented.strip()
    parsed = creds.qr_parse(text)
    if parsed is not None:
        credential = _credential_with_memberships(qr_id=parsed.credential_id)
        if credential is None or not creds.qr_signature_valid(
            parsed=parsed, secret=credential.secret
        ):
            return Presented(None, Reason.UNKNOWN_CREDENTIAL)
        if not creds.qr_window_current(parsed=parsed, at=at):
            return Presented(credential, Reason.CODE_EXPIRED)
    else:
        number = creds.card_number_normalise(text)
        if not number:
            return Presented(None, Reason.UNKNOWN_CREDENTIAL)
        credential = _credential_with_memberships(card_number=number)
        if credential is None:
            return Presented(None, Reason.UNKNOWN_CREDENTIAL)
    if credential.member.status != Member.Status.ACTIVE:
        return Presented(credential, Reason.NO_MEMBERSHIP)
    return Presented(credential, None)


def _in_model_order(model, attnames) -> tuple[str, ...]:
    """``Model.from_db`` with deferred fields wants values in the model's field order."""
    return select_list(model, "", attnames)[0]


# A credential's label and timestamps are not needed to decide (and each
# timestamp costs the driver a time-zone conversion): left deferred.
_CREDENTIAL_COLUMNS = _in_model_order(
    Credential, ("id", "organisation_id", "member_id", "kind", "number", "secret", "status")
)
_MEMBER_COLUMNS = _in_model_order(
    Member, ("id", "organisation_id", "first_name", "last_name", "status", "photo")
)
_MEMBERSHIP_COLUMNS = _in_model_order(
    Membership,
    (
        "id",
        "organisation_id",
        "member_id",
        "plan_id",
        "status",
        "start_date",
        "end_date",
        "cancels_on",
        "entries_remaining",
    ),
)
_PLAN_COLUMNS = _in_model_order(
    Plan,
    (
        "id",
        "organisation_id",
        "name",
        "kind",
        "valid_from",
        "valid_until",
        "access_from",
        "access_until",
    ),
)


_MEMBERSHIP_PLAN = Membership._meta.get_field("plan")
_CREDENTIAL_MEMBER = Credential._meta.get_field("member")


@cache
def _credential_sql() -> tuple[str, tuple[str, ...]]:
    """The statement of ``_credential_with_memberships`` (built once per process)."""
    credential_attnames = _CREDENTIAL_COLUMNS
    select = ", ".join(
        [
            select_list(Credential, "c", credential_attnames)[1],
            select_list(Member, "m", _MEMBER_COLUMNS)[1],
            select_list(Membership, "ms", _MEMBERSHIP_COLUMNS)[1],
            select_list(Plan, "p", _PLAN_COLUMNS)[1],
        ]
    )
    sql = (
        f"SELECT {select} FROM {Credential._meta.db_table} c "  # noqa: S608 (names from _meta)
        f"JOIN {Member._meta.db_table} m ON m.id = c.member_id "
        f"LEFT JOIN {Membership._meta.db_table} ms "
        f"ON ms.member_id = c.member_id AND ms.organisation_id = c.organisation_id "
        f"LEFT JOIN {Plan._meta.db_table} p ON p.id = ms.plan_id "
        f"WHERE c.organisation_id = %s AND c.status = 'active' AND "
    )
    return sql, credential_attnames


def _credential_with_memberships(
    *, card_number: str | None = None, qr_id: int | None = None
) -> Credential | None:
    """An active credential of the gym in scope, its member, and the member's
    membership rows (with plans), in one statement.

    Raw SQL because this is the check-in's hottest read: building the equivalent ORM
    queries cost more CPU than running them. The organisation filter is written out
    (the tenant manager does not see raw SQL) and tested by the isolation tests of
    ``test_device_auth.py``.
    """
    organisation_id = require_scope().organisation_id
    sql, credential_attnames = _credential_sql()
    # The kind is written into the statement, not passed as a parameter: PostgreSQL
    # then proves the partial unique index (kind = 'card' AND status = 'active')
    # applies when it plans the prepared statement once, instead of planning it
    # again on every execution.
    if qr_id is not None:
        condition, value = "c.kind = 'qr' AND c.id = %s", qr_id
    else:
        condition, value = "c.kind = 'card' AND c.number = %s", card_number
    with connection.cursor() as cursor:
        cursor.execute(sql + condition, [organisation_id, value])
        rows = cursor.fetchall()
    if not rows:
        return None
    n_credential, n_member = len(credential_attnames), len(_MEMBER_COLUMNS)
    start = n_credential + n_member
    plan_start = start + len(_MEMBERSHIP_COLUMNS)
    first = rows[0]
    credential = loaded_instance(Credential, credential_attnames, first[:n_credential])
    member = loaded_instance(Member, _MEMBER_COLUMNS, first[n_credential:start])
    memberships = []
    for row in rows:
        if row[start] is None:  # no membership rows: the LEFT JOIN's single empty row
            continue
        membership = loaded_instance(Membership, _MEMBERSHIP_COLUMNS, row[start:plan_start])
        # Joined rows go straight into the relation caches (as select_related does):
        # assigning through the descriptors would consult the routers each time.
        _MEMBERSHIP_PLAN.set_cached_value(
            membership, loaded_instance(Plan, _PLAN_COLUMNS, row[plan_start:])
        )
        memberships.append(membership)
    member._live_memberships = memberships
    _CREDENTIAL_MEMBER.set_cached_value(credential, member)
    return credential


def member_qr_credential(*, member: Member) -> Credential | None:
    return Credential.objects.filter(
        member=member, kind=Credential.Kind.QR, status=Credential.Status.ACTIVE
    ).first()


def member_credentials(*, member: Member) -> QuerySet[Credential]:
    return Credential.objects.filter(member=member).order_by("status", "-created_at")


# --- The decision --------------------------------------------------------------


@dataclass
class Decision:
    result: str
    reason: str
    member: Member | None = None
    membership: Membership | None = None
    # The grant needs one entry of a limited-entry ticket (decided under a lock).
    needs_entry: bool = False
    recent_grants: list[dict] = field(default_factory=list)

    @property
    def granted(self) -> bool:
        return self.result == Result.GRANTED

    @property
    def result_label(self) -> str:
        return str(Result(self.result).label)

    @property
    def reason_label(self) -> str:
        """The reason in the words staff read (``Reason``'s label), not its code."""
        return str(Reason(self.reason).label)


def _deny(reason: str, **kwargs) -> Decision:
    return Decision(result=Result.DENIED, reason=reason, **kwargs)


def branch_open_at(*, branch: Branch, local: datetime) -> bool:
    """Open by its opening hours; a branch with no hours recorded is always open.

    The hours are kept for a few seconds per worker (``access.cache``)."""
    if not branch.is_active:
        return False
    rows = config_cache.cached(
        ("opening_hours", branch.pk),
        lambda: list(
            OpeningHours.objects.filter(branch_id=branch.pk).values_list(
                "weekday", "opens_at", "closes_at"
            )
        ),
    )
    if not rows:
        return True
    weekday, now = local.weekday(), local.time()
    return any(day == weekday and opens <= now < closes for day, opens, closes in rows)


def member_ranked_memberships(
    *, member_id: int, on: date, rows: list[Membership] | None = None
) -> list[Membership]:
    """A member's memberships, best first (``memberships.selectors.membership_rank``),
    read live with one query unless ``rows`` (the credential read's) are given."""
    if rows is None:
        rows = member_memberships(member_id=member_id)
    return memberships_ranked(rows, on=on)


def membership_deciding_fast(
    *, member_id: int, on: date, rows: list[Membership] | None = None
) -> Membership | None:
    """The first of ``member_ranked_memberships``: the membership that decides."""
    ranked = member_ranked_memberships(member_id=member_id, on=on, rows=rows)
    return ranked[0] if ranked else None


def with_plan_branches(membership: Membership) -> Membership:
    """The membership with its plan's branch list (``plan_branch_ids``), kept for a
    few seconds per worker (``access.cache``): organisation data, read unscoped (a
    device is scoped to its own branch, which would hide the plan's others)."""
    plan = membership.plan
    if getattr(plan, "_branch_ids", None) is None:
        plan_lists_attach(
            plan,
            branch_ids=config_cache.cached(
                ("plan_branches", plan.pk), lambda: plan_branch_ids(plan)
            ),
        )
    return membership


def membership_refusal_at(
    membership: Membership, *, branch: Branch, on: date, local_time=None
) -> str | None:
    """The plan rules for entering ``branch`` (``membership_refusal``), as the stored
    ``Reason`` (None: allowed). Entries are settled by the door itself (a re-entry on
    the same visit needs none)."""
    refusal = membership_refusal(
        with_plan_branches(membership),
        use=Use(branch_id=branch.pk, on=on, local_time=local_time),
    )
    return None if refusal is None else REFUSAL_REASONS[refusal]


def membership_admitting(*, member_id: int, branch: Branch, at: datetime) -> Membership | None:
    """The membership an entry at ``branch`` at ``at`` counts on: the first of
    ``membership_candidates`` whose plan rules allow it, else the deciding one."""
    local = branch_local(branch, at)
    ranked = member_ranked_memberships(member_id=member_id, on=local.date())
    for membership in membership_candidates(ranked, on=local.date()):
        if (
            membership_refusal_at(
                membership, branch=branch, on=local.date(), local_time=local.time()
            )
            is None
        ):
            return membership
    return ranked[0] if ranked else None


def recent_grants(*, member_id: int, branch_id: int, since: datetime, until=None) -> list[dict]:
    """A member's granted passes at a branch since a time, newest first.

    Walks the (member, occurred_at) index; a handful of rows at most.
    """
    rows = AccessLog.objects.filter(
        member_id=member_id,
        branch_id=branch_id,
        result=Result.GRANTED,
        occurred_at__gte=since,
    )
    if until is not None:
        rows = rows.filter(occurred_at__lte=until)
    return list(
        rows.order_by("-occurred_at").values(
            "occurred_at", "direction", "entry_consumed", "membership_id"
        )[:20]
    )


def is_inside(*, grants: list[dict], since: datetime) -> bool:
    """The last pass since ``since`` was an entry with no exit after it."""
    latest = next((g for g in grants if g["occurred_at"] >= since), None)
    return latest is not None and latest["direction"] == AccessLog.Direction.ENTRY


def same_visit_entry(
    *, grants: list[dict], membership_id: int, around: datetime, minutes: int
) -> bool:
    """An entry already charged to this ticket within the re-entry window of ``around``."""
    window = timedelta(minutes=minutes)
    return any(
        g["entry_consumed"]
        and g["membership_id"] == membership_id
        and abs(g["occurred_at"] - around) <= window
        for g in grants
    )


def checkin_decide(
    *,
    member: Member,
    branch: Branch,
    at: datetime | None = None,
    check_passback: bool = True,
    entries_decided_later: bool = False,
) -> Decision:
    """Decide whether a member may enter a branch now, and why not.

    Order matters for the reason reported: the branch being closed first (nobody
    may enter), then the membership's state, then its limits, then anti-passback
    and entries. Reads only; the caller records the attempt.

    ``entries_decided_later``: the caller (the check-in service) settles a
    limited-entry ticket under the membership's row lock (same visit, one entry or
    none left), so the unlocked pre-check is skipped.
    """
    at = at or timezone.now()
    policy = policy_for(branch)
    local = branch_local(branch, at)
    today = local.date()

    if not branch_open_at(branch=branch, local=local):
        return _deny(Reason.BRANCH_CLOSED, member=member)
    ranked = member_ranked_memberships(
        member_id=member.pk, on=today, rows=getattr(member, "_live_memberships", None)
    )
    if not ranked:
        return _deny(Reason.NO_MEMBERSHIP, member=member)
    # The deciding membership answers, and its reason is the one reported. But a
    # member may hold two usable ones on a day (a membership for their home branch
    # and a day pass bought for another): the door tries the others in the same
    # order before saying no, so the newer pass never locks them out of home.
    first = None
    for membership in membership_candidates(ranked, on=today):
        decision = _decide_on(
            membership,
            member=member,
            branch=branch,
            at=at,
            local=local,
            policy=policy,
            check_passback=check_passback,
            entries_decided_later=entries_decided_later,
        )
        if decision.result == Result.GRANTED or decision.reason == Reason.ALREADY_INSIDE:
            return decision
        first = first or decision
    return first


def _decide_on(
    membership: Membership,
    *,
    member: Member,
    branch: Branch,
    at: datetime,
    local: datetime,
    policy,
    check_passback: bool,
    entries_decided_later: bool,
) -> Decision:
    reason = membership_refusal_at(
        membership, branch=branch, on=local.date(), local_time=local.time()
    )
    if reason is not None:
        return _deny(reason, member=member, membership=membership)

    limited = membership.entries_remaining is not None
    passback = policy.anti_passback_minutes if check_passback else 0
    grants: list[dict] = []
    if limited and entries_decided_later and not passback and membership.entries_remaining > 0:
        # Settled under the ticket's lock by the caller (same visit, one entry or none).
        return Decision(Result.GRANTED, Reason.OK, member, membership, True)
    if passback or limited:
        look_back = max(passback, policy.reentry_minutes if limited else 0)
        grants = recent_grants(
            member_id=member.pk, branch_id=branch.pk, since=at - timedelta(minutes=look_back)
        )
    if passback and is_inside(grants=grants, since=at - timedelta(minutes=passback)):
        return _deny(Reason.ALREADY_INSIDE, member=member, membership=membership)
    if limited:
        if same_visit_entry(
            grants=grants, membership_id=membership.pk, around=at, minutes=policy.reentry_minutes
        ):
            return Decision(Result.GRANTED, Reason.REENTRY, member, membership, False, grants)
        if membership.entries_remaining <= 0:
            return _deny(Reason.NO_ENTRIES_LEFT, member=member, membership=membership)
        return Decision(Result.GRANTED, Reason.OK, member, membership, True, grants)
    return Decision(Result.GRANTED, Reason.OK, member, membership, False, grants)


# --- Occupancy, visits, alerts -------------------------------------------------


@dataclass(frozen=True)
class Occupant:
    member_id: int
    name: str
    entered_at: datetime


def branch_occupancy(*, branch: Branch, at: datetime | None = None) -> list[Occupant]:
    """Who is inside now: members whose last pass today was an entry.

    One query on the (branch, occurred_at) index over the last few hours.
    """
    at = at or timezone.now()
    since = at - timedelta(hours=policy_for(branch).occupancy_hours)
    latest = (
        AccessLog.objects.filter(
            branch_id=branch.pk,
            result=Result.GRANTED,
            occurred_at__gte=since,
            occurred_at__lte=at,
            member__isnull=False,
        )
        .order_by("member_id", "-occurred_at")
        .distinct("member_id")
        .values("member_id", "member__first_name", "member__last_name", "direction", "occurred_at")
    )
    inside = [
        Occupant(
            member_id=row["member_id"],
            name=f"{row['member__first_name']} {row['member__last_name']}".strip(),
            entered_at=row["occurred_at"],
        )
        for row in latest
        if row["direction"] == AccessLog.Direction.ENTRY
    ]
    return sorted(inside, key=lambda o: o.entered_at, reverse=True)


def member_visits(*, member: Member) -> QuerySet[AccessLog]:
    """A member's granted entries, newest first, with the branch joined."""
    return (
        AccessLog.objects.filter(
            member=member, result=Result.GRANTED, direction=AccessLog.Direction.ENTRY
        )
        .select_related("branch")
        .order_by("-occurred_at")
    )


def denied_alerts(*, since: datetime, threshold: int = 3) -> list[dict]:
    """Credentials or members refused repeatedly since a time: worth a look by staff.

    Unknown credentials tried again and again (someone probing a reader) count by
    what was presented at each device.
    """
    from django.db.models import Count, Max

    rows = (
        AccessLog.objects.filter(result=Result.DENIED, occurred_at__gte=since)
        .values(
            "branch_id",
            "branch__name",
            "member_id",
            "member__first_name",
            "member__last_name",
            "reason",
        )
        .annotate(attempts=Count("id"), last=Max("occurred_at"))
        .filter(attempts__gte=threshold)
        .order_by("-attempts")[:50]
    )
    return list(rows)


def member_search(*, text: str, limit: int = 20) -> list[Member]:
    """Front desk lookup by name, email or card number."""
    text = text.strip()
    if not text:
        return []
    condition = Q()
    for word in text.split()[:3]:
        condition &= (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    number = creds.card_number_normalise(text)
    card_owner = Q(
        access_credentials__kind=Credential.Kind.CARD,
        access_credentials__number=number,
        access_credentials__status=Credential.Status.ACTIVE,
    )
    return list(
        Member.objects.filter(condition | card_owner, status=Member.Status.ACTIVE)
        .distinct()
        .order_by("last_name", "first_name")[:limit]
    )


# --- Offline allow-list ----------------------------------------------------------


def _allowlist_member_ids(*, since: datetime | None) -> set[int]:
    if since is None:
        return set(
            Credential.objects.filter(status=Credential.Status.ACTIVE).values_list(
                "member_id", flat=True
            )
        )
    changed_credentials = Credential.objects.filter(updated_at__gte=since).values_list(
        "member_id", flat=True
    )
    changed_memberships = Membership.objects.filter(
        updated_at__gte=since,
        member__access_credentials__isnull=False,
    ).values_list("member_id", flat=True)
    return set(changed_credentials) | set(changed_memberships)


def allowlist_entries(*, branch: Branch, since: datetime | None, at: datetime) -> list[dict]:
    """Each member's offline state at a branch: may they enter, until when, with what.

    The device applies the time rules itself (plan hours, validity dates, entries);
    this says what the membership allows today. Membership state is read through
    ``memberships.selectors`` one member at a time, with the door's choice among
    them (``membership_candidates``, ``membership_refusal``): the same rules as
    online, at the cost of a query per member (a full list is fetched rarely;
    increments are small).
    """
    member_ids = _allowlist_member_ids(since=since)
    if not member_ids:
        return []
    today = branch_local(branch, at).date()
    members = {
        m.pk: m
        for m in Member.objects.filter(pk__in=member_ids).prefetch_related("access_credentials")
    }
    entries = []
    for member_id in sorted(member_ids):
        member = members.get(member_id)
        if member is None:
            continue
        active_credentials = [
            c for c in member.access_credentials.all() if c.status == Credential.Status.ACTIVE
        ]
        entry = {
            "member": member.pk,
            "name": member.full_name,
            "allowed": False,
            "reason": Reason.NO_MEMBERSHIP.value,
            "valid_from": None,
            "valid_until": None,
            "access_from": None,
            "access_until": None,
            "entries_remaining": None,
            "credentials": [
                {"id": c.pk, "kind": c.kind, "secret": c.secret}
                if c.kind == Credential.Kind.QR
                else {"id": c.pk, "kind": c.kind, "number_sha256": creds.card_number_hash(c.number)}
                for c in active_credentials
            ],
        }
        ranked = (
            member_ranked_memberships(member_id=member.pk, on=today)
            if member.status == Member.Status.ACTIVE and active_credentials
            else []
        )
        # The door's choice (``checkin_decide``): the deciding membership, else the
        # first other one usable today that opens this branch. The device applies the
        # plan's hours, dates and entries itself, so those are listed, not decided.
        chosen, reason = None, Reason.NO_MEMBERSHIP
        for membership in membership_candidates(ranked, on=today):
            # A membership paid for and starting soon is judged on its first day and
            # listed with its start date.
            starts_later = (
                membership.status == Membership.Status.ACTIVE and membership.start_date > today
            )
            on = membership.start_date if starts_later else today
            refused = membership_refusal_at(membership, branch=branch, on=on)
            if chosen is None or refused is None:
                chosen, reason = membership, refused or Reason.OK
            if refused is None:
                break
        if chosen is not None:
            plan = chosen.plan
            ends = [d for d in (chosen.end_date, plan.valid_until) if d]
            starts = [d for d in (chosen.start_date, plan.valid_from) if d]
            entry.update(
                allowed=reason == Reason.OK,
                reason=reason.value,
                valid_from=max(starts).isoformat() if starts else None,
                valid_until=min(ends).isoformat() if ends else None,
                access_from=plan.access_from.strftime("%H:%M") if plan.access_from else None,
                access_until=plan.access_until.strftime("%H:%M") if plan.access_until else None,
                entries_remaining=chosen.entries_remaining,
            )
        entries.append(entry)
    return entries


def sessions_soon(*, branch: Branch, at: datetime) -> list[tuple[int, datetime, datetime]]:
    """Class sessions at a branch running now or starting in the next hours.

    Cached per worker for a few seconds (``access.cache``): asked on every grant,
    the same for every member, and empty for most of a day at most doors.
    """

    def load():
        with tenant_scope(branch.organisation_id):
            return list(
                ClassSession.objects.filter(
                    branch_id=branch.pk,
                    starts_at__lte=at + timedelta(hours=2),
                    ends_at__gt=at - timedelta(minutes=1),
                ).values_list("pk", "starts_at", "ends_at")
            )

    window = int(at.timestamp()) // 60
    return config_cache.cached(("sessions_soon", branch.pk, window), load, ttl=60)
