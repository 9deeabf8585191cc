"""Read-only queries about people, organisations and branches."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet

from accounts.models import (
    BRANCH_ROLES,
    STAFF_ROLES,
    Branch,
    Certification,
    Member,
    Organisation,
    Role,
    RoleAssignment,
    TrainerCertification,
    TrainerProfile,
    User,
)
from accounts.tenancy import TenantScope


def user_roles_in(*, user: User, organisation_id: int) -> set[str]:
    """Role names (plus "member") a person holds in one organisation."""
    if user.is_anonymous:
        return set()
    roles = set(
        RoleAssignment.objects.unscoped()
        .filter(organisation_id=organisation_id, user=user)
        .values_list("role", flat=True)
    )
    if (
        Member.objects.unscoped()
        .filter(organisation_id=organisation_id, user=user, status=Member.Status.ACTIVE)
        .exists()
    ):
        roles.add("member")
    return roles


def _belonging_rows() -> tuple[QuerySet[RoleAssignment], QuerySet[Member]]:
    """What makes a person belong to a gym: a role there (staff or trainer), or a member
    record (archived too: the gym still knows them). Every gym's rows; callers filter."""
    return RoleAssignment.objects.unscoped(), Member.objects.unscoped()


def user_organisation_ids(*, user: User) -> set[int]:
    ids: set[int] = set()
    for rows in _belonging_rows():
        ids.update(rows.filter(user=user).values_list("organisation_id", flat=True))
    return ids


def organisation_users(*, organisation_id: int) -> QuerySet[User]:
    """The people who belong to one gym (see ``_belonging_rows``): the only users a gym's
    staff may pick in a form, so no gym reaches a person it does not already know."""
    roles, members = _belonging_rows()
    return User.objects.filter(
        Q(pk__in=roles.filter(organisation_id=organisation_id).values("user_id"))
        | Q(pk__in=members.filter(organisation_id=organisation_id).values("user_id"))
    )


HOST_CACHE_SECONDS = 60


def organisation_id_for_host(*, host: str) -> int | None:
    """The organisation served at this host name, or the only one of a one-gym deployment.

    Cached (every request asks, the answer rarely changes); saving or deleting an
    organisation clears the cache (``accounts.signals``).
    """
    host = host.split(":")[0].lower()
    key = f"tenant-host:{cache.get_or_set('tenant-host-version', 1)}:{host}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    organisation_id = Organisation.objects.filter(domain=host).values_list("pk", flat=True).first()
    if organisation_id is None:
        only = list(Organisation.objects.values_list("pk", flat=True)[:2])
        organisation_id = only[0] if len(only) == 1 else None
    cache.set(key, organisation_id or 0, HOST_CACHE_SECONDS)
    return organisation_id


def forget_host_cache() -> None:
    try:
        cache.incr("tenant-host-version")
    except ValueError:
        cache.set("tenant-host-version", 1)


# The session key of the gym a person in several gyms chose (``accounts.views.gym_switch``).
GYM_SESSION_KEY = "spotter_gym"


def organisation_for_user(*, user: User, chosen_id: int | None = None) -> Organisation | None:
    """The person's gym: their only one, or the one they chose among theirs. A choice
    they do not belong to (any more) is ignored, so it can never widen the scope."""
    if user.is_anonymous:
        return None
    ids = user_organisation_ids(user=user)
    if len(ids) == 1:
        return Organisation.objects.get(pk=ids.pop())
    if chosen_id is not None and chosen_id in ids:
        return Organisation.objects.get(pk=chosen_id)
    return None


def user_organisations(*, user: User) -> QuerySet[Organisation]:
    """The gyms a person belongs to (for the gym switcher): theirs only."""
    if user.is_anonymous:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk__in=user_organisation_ids(user=user)).order_by("name")


def staff_scope_for(*, user: User, organisation_id: int) -> TenantScope:
    """The scope a person works in as staff: every branch for owners, else their branches."""
    if user.is_superuser:
        return TenantScope(organisation_id=organisation_id)
    assignments = list(
        RoleAssignment.objects.unscoped()
        .filter(organisation_id=organisation_id, user=user, role__in=STAFF_ROLES)
        .values_list("role", "branch_id")
    )
    if any(role == Role.OWNER for role, _ in assignments):
        return TenantScope(organisation_id=organisation_id)
    return TenantScope(
        organisation_id=organisation_id,
        branch_ids=frozenset(branch for role, branch in assignments if role in BRANCH_ROLES),
    )


def admin_timezone(scope: TenantScope) -> str:
    """The time zone the back office shows and takes dates and times in: the branch's,
    for staff of one branch; else the gym's default (an owner's chain may span zones:
    lists of sessions also show each one's local time)."""
    if scope.branch_ids is not None and len(scope.branch_ids) == 1:
        (branch_id,) = scope.branch_ids
        zone = Branch.objects.unscoped().filter(pk=branch_id).values_list("timezone", flat=True)
    else:
        zone = Organisation.objects.filter(pk=scope.organisation_id).values_list(
            "default_timezone", flat=True
        )
    return zone.first() or settings.TIME_ZONE


def is_staff_in(*, user: User, organisation_id: int) -> bool:
    if user.is_anonymous or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        RoleAssignment.objects.unscoped()
        .filter(organisation_id=organisation_id, user=user, role__in=STAFF_ROLES)
        .exists()
    )


def member_for_user(*, user: User) -> Member | None:
    """The signed-in person's member record in the organisation in scope."""
    if user.is_anonymous:
        return None
    # No ordering: the unique (organisation, user) index answers it directly.
    return Member.objects.filter(user=user, status=Member.Status.ACTIVE).order_by().first()


def trainer_for_user(*, user: User) -> TrainerProfile | None:
    if user.is_anonymous:
        return None
    return TrainerProfile.objects.filter(user=user, is_active=True).order_by().first()


def trainer_missing_certifications(*, trainer: TrainerProfile, certification_ids, on) -> list[str]:
    """Names of the required certifications (a queryset or ids) the trainer does not
    hold, or holds expired, on a date; empty when nothing is missing."""
    required = Certification.objects.filter(pk__in=certification_ids)
    held = TrainerCertification.objects.filter(trainer=trainer, certification__in=required).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=on)
    )
    return list(
        required.exclude(pk__in=held.values("certification_id")).values_list("name", flat=True)
    )


def member_may_act_for(*, actor: Member | None, member: Member) -> bool:
    """A member acts for themselves and, as household payer, for their dependants."""
    return actor is not None and member.in_household_of(actor)


def household_members(*, member: Member) -> QuerySet[Member]:
    """The member and the active dependants they pay for (``Member.household_of``)."""
    return Member.objects.filter(Member.household_of(member.pk))


@dataclass(frozen=True)
class BranchDistance:
    branch: Branch
    distance_km: float


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius_km = 6371.0088
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = math.radians(lat2 - lat1)
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * radius_km * math.asin(math.sqrt(a))


def branch_list() -> QuerySet[Branch]:
    return Branch.objects.filter(is_active=True).prefetch_related("opening_hours")


def branches_nearest(*, latitude: Decimal, longitude: Decimal) -> list[BranchDistance]:
    """Open branches ordered by great-circle distance from a point.

    A gym has a handful of branches, so the distance is computed in Python rather
    than with PostGIS (not available on the embedded PostgreSQL).
    """
    lat, lon = float(latitude), float(longitude)
    ranked = [
        BranchDistance(
            branch=branch,
            distance_km=round(
                _haversine_km(lat, lon, float(branch.latitude), float(branch.longitude)), 2
            ),
        )
        for branch in branch_list()
    ]
    return sorted(ranked, key=lambda item: item.distance_km)
