"""Joining and leaving a gym's staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleAssignment, TrainerProfile, User
from accounts.services import audit_record, user_revoke_logins
from bookings.models import Appointment
from classes.models import ClassSchedule, ClassSession
from classes.services import schedule_update_from, session_update
from gymsite.errors import NotAllowed, ServiceError
from staff import selectors
from staff.models import Employment, Invitation


def employment_start(*, user: User, invitation: Invitation, now: datetime) -> Employment:
    """Give the invitee the invitation's role here (inside the acceptance)."""
    employment = Employment.objects.filter(user=user, ended_at__isnull=True).first()
    if employment is None:
        employment = Employment.objects.create(user=user, invitation=invitation, started_at=now)
    branches = list(invitation.branches.all())
    if invitation.role in (Role.BRANCH_MANAGER, Role.FRONT_DESK):
        for branch in branches:
            RoleAssignment.objects.get_or_create(user=user, role=invitation.role, branch=branch)
    else:
        RoleAssignment.objects.get_or_create(user=user, role=invitation.role, branch=None)
    if invitation.role == Role.TRAINER:
        profile, _created = TrainerProfile.objects.get_or_create(
            user=user,
            defaults={"display_name": user.get_full_name() or user.email.split("@")[0]},
        )
        if not profile.is_active:
            profile.is_active = True
            profile.save(update_fields=["is_active"])
        profile.branches.add(*branches)
    return employment


@dataclass
class OffboardingResult:
    employment: Employment
    reassigned: list[ClassSession] = field(default_factory=list)
    needs_substitute: list[ClassSession] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)


@transaction.atomic
def employment_end(
    *,
    actor: User,
    user: User,
    reason: str,
    substitute: TrainerProfile | None = None,
    now: datetime | None = None,
) -> OffboardingResult:
    """End someone's work here: their roles go, their sessions and API tokens stop
    working at once, and everything they did stays (audit log, classes taught,
    sales, pay lines). Their future classes go to ``substitute`` when given (and
    certified), else are left without a trainer and listed; their future
    appointments are listed for a substitute (the member chose that trainer).
    """
    now = now or timezone.now()
    if not reason.strip():
        raise ServiceError(_("Give a reason."), code="invalid", field="reason")
    if user.pk == actor.pk:
        raise NotAllowed(_("You cannot end your own employment."), code="not_allowed")
    selectors.check_may_manage(actor=actor, user=user)
    employment = (
        Employment.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
    )
    if employment is None:
        # Staff who joined before invitations existed: their employment starts with
        # their first role here.
        first = RoleAssignment.objects.filter(user=user).order_by("created_at").first()
        if first is None:
            raise ServiceError(_("This person does not work here."), code="not_staff")
        employment = Employment.objects.create(user=user, started_at=first.created_at)
    result = OffboardingResult(employment=employment)
    trainer = TrainerProfile.objects.filter(user=user).first()
    if trainer is not None:
        if substitute is not None and substitute.pk == trainer.pk:
            raise ServiceError(
                _("Pick someone else as the substitute."), code="invalid", field="substitute"
            )
        _hand_over_classes(trainer, substitute, actor, now, result)
        result.appointments = list(
            Appointment.objects.filter(
                trainer=trainer, status=Appointment.Status.BOOKED, starts_at__gt=now
            ).select_related("member", "service", "branch")
        )
        trainer.is_active = False
        trainer.save(update_fields=["is_active"])
    roles = list(RoleAssignment.objects.filter(user=user).values_list("role", "branch_id"))
    RoleAssignment.objects.filter(user=user).delete()
    employment.ended_at, employment.ended_by, employment.end_reason = now, actor, reason.strip()
    employment.save(update_fields=["ended_at", "ended_by", "end_reason"])
    user_revoke_logins(user=user)
    audit_record(
        actor=actor,
        action="employment.end",
        target=employment,
        data={
            "roles": [[role, branch] for role, branch in roles],
            "reassigned": [s.pk for s in result.reassigned],
            "needs_substitute": [s.pk for s in result.needs_substitute],
            "appointments": [a.pk for a in result.appointments],
        },
    )
    return result


def _hand_over_classes(trainer, substitute, actor, now, result: OffboardingResult) -> None:
    upcoming = ClassSession.objects.filter(
        trainer=trainer, status=ClassSession.Status.SCHEDULED, starts_at__gt=now
    )
    session_ids = list(upcoming.values_list("pk", flat=True))
    # The series first (their future sessions follow, and so do those materialised
    # later); then the sessions edited on their own, which a series leaves alone.
    for schedule in ClassSchedule.objects.filter(trainer=trainer, is_active=True).select_related(
        "branch", "class_type"
    ):
        # From tomorrow: today's classes already taught stay theirs (and theirs to be
        # paid for); today's later ones are handed over one by one below.
        tomorrow = now.astimezone(ZoneInfo(schedule.branch.timezone)).date() + timedelta(days=1)
        if schedule.ends_on is not None and schedule.ends_on < tomorrow:
            continue
        try:
            with transaction.atomic():
                schedule_update_from(
                    schedule=schedule, from_date=tomorrow, actor=actor, trainer=substitute
                )
        except ServiceError:
            # The substitute may not teach this class (a certification): nobody then.
            schedule_update_from(schedule=schedule, from_date=tomorrow, actor=actor, trainer=None)
    for session_id in upcoming.values_list("pk", flat=True):
        try:
            if substitute is None:
                raise ServiceError("no substitute")
            with transaction.atomic():
                session_update(session=session_id, actor=actor, trainer=substitute)
        except ServiceError:
            session_update(session=session_id, actor=actor, trainer=None)
    for session in ClassSession.objects.filter(pk__in=session_ids).order_by("starts_at", "pk"):
        if substitute is not None and session.trainer_id == substitute.pk:
            result.reassigned.append(session)
        else:
            result.needs_substitute.append(session)
