"""Reads: who may see a member's training data, today's workout, progress, clients.

The privacy rule is written once, here (``viewer_of`` and ``visible_members``): a
member's training data is seen by the member, the trainers assigned to them (a plan
assignment that has not ended, or a personal-training appointment lately or ahead)
and the managers of their home branch (owners manage every branch). Front desk and
door devices never see it, whatever else they may do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from accounts.models import Member, Role, RoleAssignment, TrainerProfile, User
from accounts.selectors import trainer_for_user
from accounts.tenancy import require_scope
from bookings.models import Appointment
from training.models import (
    BodyMetric,
    Exercise,
    MetricKind,
    NutritionLog,
    NutritionTarget,
    PersonalRecord,
    Plan,
    PlanAssignment,
    PlanDay,
    PlanExercise,
    RecordKind,
    SetLog,
    WorkoutComment,
    WorkoutSession,
)
from training.prescription import describe, target_kg

# A PT client stays a client this long after their last appointment.
PT_CLIENT_DAYS = 90
ADHERENCE_DAYS = 28
E1RM_MAX_REPS = 12


# --- privacy --------------------------------------------------------------------------


def _client_appointments(*, trainer_id: int, today: date) -> QuerySet[Appointment]:
    since = timezone.now() - timedelta(days=PT_CLIENT_DAYS)
    return Appointment.objects.filter(
        trainer_id=trainer_id,
        starts_at__gte=since,
        status__in=[Appointment.Status.BOOKED, Appointment.Status.ATTENDED],
    )


def _client_assignments(*, trainer_id: int, today: date) -> QuerySet[PlanAssignment]:
    return PlanAssignment.objects.filter(trainer_id=trainer_id).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def trainer_client_ids(*, trainer: TrainerProfile) -> set[int]:
    """Members with a PT appointment with this trainer or a plan they assigned."""
    today = timezone.localdate()
    ids = set(
        _client_assignments(trainer_id=trainer.pk, today=today).values_list("member_id", flat=True)
    )
    ids |= set(
        _client_appointments(trainer_id=trainer.pk, today=today).values_list("member_id", flat=True)
    )
    return ids


def _managed_branches(*, user: User) -> set[int] | None:
    """Branch ids the person manages in the gym in scope; None for every branch (owner)."""
    rows = (
        RoleAssignment.objects.unscoped()
        .filter(
            organisation_id=require_scope().organisation_id,
            user=user,
            role__in=[Role.OWNER, Role.BRANCH_MANAGER],
        )
        .values_list("role", "branch_id")
    )
    branches: set[int] = set()
    for role, branch_id in rows:
        if role == Role.OWNER:
            return None
        branches.add(branch_id)
    return branches


def viewer_of(*, user: User, member: Member) -> str | None:
    """How ``user`` may see ``member``'s training data: "self", "trainer", "manager",
    or None (not at all)."""
    if user.is_anonymous or member.organisation_id != require_scope().organisation_id:
        return None
    if member.user_id == user.pk:
        return "self"
    if user.is_superuser:
        return "manager"
    managed = _managed_branches(user=user)
    if managed is None or member.home_branch_id in managed:
        return "manager"
    trainer = trainer_for_user(user=user)
    if trainer is not None and member.pk in trainer_client_ids(trainer=trainer):
        return "trainer"
    return None


def visible_members(*, user: User) -> QuerySet[Member]:
    """Every member whose training data ``user`` may see, as one queryset."""
    members = Member.objects.all()
    if user.is_anonymous:
        return members.none()
    if user.is_superuser:
        return members
    condition = Q(user=user)
    managed = _managed_branches(user=user)
    if managed is None:
        return members
    if managed:
        condition |= Q(home_branch_id__in=managed)
    trainer = trainer_for_user(user=user)
    if trainer is not None:
        condition |= Q(pk__in=trainer_client_ids(trainer=trainer))
    return members.filter(condition)


# --- exercises ------------------------------------------------------------------------


def exercise_search(
    *,
    query: str = "",
    category: str = "",
    muscle: str = "",
    equipment: str = "",
    own_only: bool = False,
) -> QuerySet[Exercise]:
    exercises = Exercise.objects.filter(is_active=True)
    if query:
        exercises = exercises.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if category:
        exercises = exercises.filter(category=category)
    if muscle:
        exercises = exercises.filter(
            Q(primary_muscles__contains=[muscle]) | Q(secondary_muscles__contains=[muscle])
        )
    if equipment:
        exercises = exercises.filter(equipment=equipment)
    if own_only:
        exercises = exercises.filter(organisation__isnull=False)
    return exercises.order_by("name")


# --- plans ----------------------------------------------------------------------------


def version_days(*, version_id: int) -> list[PlanDay]:
    """A version's days with their exercises, in order (two queries)."""
    return list(
        PlanDay.objects.filter(version_id=version_id)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch(
                "exercises",
                queryset=PlanExercise.objects.select_related("exercise").order_by("position", "pk"),
            )
        )
    )


def plans_for_trainer(*, trainer: TrainerProfile) -> QuerySet[Plan]:
    return (
        Plan.objects.filter(Q(trainer=trainer) | Q(is_template=True))
        .select_related("member", "current_version")
        .order_by("-is_template", "name")
    )


def editable_plan(*, user: User, plan_id: int) -> Plan | None:
    """A plan ``user`` may change: the plan's trainer, any trainer for a template, the
    member for a plan of their own that no trainer runs."""
    plan = Plan.objects.select_related("member", "trainer").filter(pk=plan_id).first()
    if plan is None or user.is_anonymous:
        return None
    own = plan.member is not None and plan.member.user_id == user.pk and not plan.trainer_id
    if own:
        return plan
    trainer = trainer_for_user(user=user)
    if trainer is not None and (plan.is_template or plan.trainer_id == trainer.pk):
        return plan
    return None


def member_assignments(*, member: Member) -> QuerySet[PlanAssignment]:
    return (
        PlanAssignment.objects.filter(member=member)
        .select_related("plan", "trainer", "plan__current_version")
        .order_by("-starts_on", "-pk")
    )


def current_assignment(*, member: Member, day: date | None = None) -> PlanAssignment | None:
    day = day or timezone.localdate()
    return (
        member_assignments(member=member)
        .filter(starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .first()
    )


def best_e1rm_by_exercise(*, member: Member) -> dict[int, Decimal]:
    return dict(
        PersonalRecord.objects.filter(member=member, kind=RecordKind.BEST_E1RM).values_list(
            "exercise_id", "value"
        )
    )


@dataclass
class PlannedExercise:
    item: PlanExercise
    summary: str
    target_kg: float | None
    sets_planned: int
    logged: list[SetLog] = field(default_factory=list)


@dataclass
class TodayWorkout:
    assignment: PlanAssignment | None
    day: PlanDay | None
    exercises: list[PlannedExercise]
    session: WorkoutSession | None


def today_workout(*, member: Member) -> TodayWorkout:
    """What the member does today: the next day of the plan assigned for today (the
    one after the day they last did), and the workout they already started today."""
    assignment = current_assignment(member=member)
    today = timezone.localdate()
    open_session = (
        WorkoutSession.objects.filter(member=member, started_at__date=today)
        .select_related("plan_day")
        .order_by("-started_at")
        .first()
    )
    if assignment is None or assignment.plan.current_version_id is None:
        return TodayWorkout(assignment, None, [], open_session)
    days = version_days(version_id=assignment.plan.current_version_id)
    if not days:
        return TodayWorkout(assignment, None, [], open_session)
    day = None
    if open_session is not None and open_session.plan_day_id:
        day = next((d for d in days if d.pk == open_session.plan_day_id), None)
        if day is None:
            # Started on a version edited since: that day, as it was, is today's.
            day = open_session.plan_day
            days = version_days(version_id=day.version_id)
            day = next(d for d in days if d.pk == day.pk)
    if day is None:
        last = (
            WorkoutSession.objects.filter(
                member=member, plan_version__plan_id=assignment.plan_id, plan_day__isnull=False
            )
            .order_by("-started_at")
            .values_list("plan_day__position", flat=True)
            .first()
        )
        later = [d for d in days if last is not None and d.position > last]
        day = later[0] if later else days[0]
    maxes = best_e1rm_by_exercise(member=member)
    logged: dict[int, list[SetLog]] = {}
    if open_session is not None:
        for row in SetLog.objects.filter(session=open_session).order_by("set_number", "pk"):
            logged.setdefault(row.plan_exercise_id, []).append(row)
    planned = []
    for item in day.exercises.all():
        load = item.prescription.get("load") or {}
        known = maxes.get(item.exercise_id)
        target = None
        if "kg" in load:
            target = load["kg"]
        elif "percent_of_max" in load and known:
            target = target_kg(load["percent_of_max"], known)
        planned.append(
            PlannedExercise(
                item=item,
                summary=describe(item.prescription, max_kg=known),
                target_kg=target,
                sets_planned=item.prescription.get("sets", 1),
                logged=logged.get(item.pk, []),
            )
        )
    return TodayWorkout(assignment, day, planned, open_session)


# --- workouts and progress ------------------------------------------------------------


def member_sessions(*, member: Member, limit: int = 20) -> list[WorkoutSession]:
    """Recent workouts with their sets and comments (three queries, whatever the history)."""
    return list(
        WorkoutSession.objects.filter(member=member)
        .select_related("plan_day", "plan_version__plan")
        .prefetch_related(
            Prefetch("sets", queryset=SetLog.objects.select_related("exercise")),
            Prefetch("comments", queryset=WorkoutComment.objects.select_related("author")),
        )
        .order_by("-started_at")[:limit]
    )


def session_detail(*, session_id: int, members: QuerySet[Member]) -> WorkoutSession | None:
    return (
        WorkoutSession.objects.filter(pk=session_id, member__in=members)
        .select_related("member", "plan_day", "plan_version__plan")
        .prefetch_related(
            Prefetch("sets", queryset=SetLog.objects.select_related("exercise")),
            Prefetch("comments", queryset=WorkoutComment.objects.select_related("author")),
        )
        .first()
    )


def member_records(*, member: Member) -> list[PersonalRecord]:
    return list(
        PersonalRecord.objects.filter(member=member)
        .select_related("exercise")
        .order_by("exercise__name", "kind", "-at_load_kg")
    )


def metric_series(*, member: Member, kind: str, custom_type_id: int | None = None) -> list[dict]:
    """[{"date": "2026-01-31", "value": 81.2}, …] oldest first, for a chart."""
    rows = BodyMetric.objects.filter(member=member, kind=kind)
    if kind == MetricKind.CUSTOM:
        rows = rows.filter(custom_type_id=custom_type_id)
    return [
        {"date": day.isoformat(), "value": float(value)}
        for day, value in rows.order_by("measured_on", "pk").values_list("measured_on", "value")
    ]


def latest_metrics(*, member: Member) -> list[BodyMetric]:
    """The newest value of each measurement (one query)."""
    return list(
        BodyMetric.objects.filter(member=member)
        .select_related("custom_type")
        .order_by("kind", "custom_type_id", "-measured_on", "-pk")
        .distinct("kind", "custom_type_id")
    )


def _epley():
    # Epley's estimate of a one-rep max: load * (1 + reps / 30).
    return ExpressionWrapper(
        F("load_kg") * (1 + F("reps") / Decimal(30)),
        output_field=DecimalField(max_digits=10, decimal_places=2),
    )


def epley(load_kg: Decimal, reps: int) -> Decimal:
    if reps == 1:
        return Decimal(load_kg).quantize(Decimal("0.01"))
    return (Decimal(load_kg) * (1 + Decimal(reps) / 30)).quantize(Decimal("0.01"))


def e1rm_series(*, member: Member, exercise_id: int) -> list[dict]:
    """The best estimated 1RM of each day the exercise was done (one query)."""
    rows = (
        SetLog.objects.filter(
            member=member,
            exercise_id=exercise_id,
            load_kg__gt=0,
            reps__gte=1,
            reps__lte=E1RM_MAX_REPS,
        )
        .annotate(day=TruncDate("performed_at"))
        .values("day")
        .annotate(best=Max(_epley()))
        .order_by("day")
    )
    return [{"date": row["day"].isoformat(), "value": round(float(row["best"]), 1)} for row in rows]


def most_logged_exercise(*, member: Member) -> Exercise | None:
    exercise_id = (
        SetLog.objects.filter(member=member, load_kg__gt=0)
        .values("exercise_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "exercise_id")
        .values_list("exercise_id", flat=True)
        .first()
    )
    return Exercise.objects.filter(pk=exercise_id).first() if exercise_id else None


@dataclass(frozen=True)
class Streak:
    weeks: int
    this_week: int


def attendance_streak(*, member: Member, today: date | None = None) -> Streak:
    """Consecutive weeks (Monday to Sunday) with at least one workout, up to this one.
    The week under way does not break the streak before it ends (one query)."""
    today = today or timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    counts = dict(
        WorkoutSession.objects.filter(
            member=member, started_at__date__gte=monday - timedelta(weeks=104)
        )
        .annotate(week=TruncWeek("started_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )
    by_monday = {week.date() if hasattr(week, "date") else week: n for week, n in counts.items()}
    this_week = by_monday.get(monday, 0)
    weeks, cursor = 0, monday if this_week else monday - timedelta(weeks=1)
    while by_monday.get(cursor):
        weeks += 1
        cursor -= timedelta(weeks=1)
    return Streak(weeks=weeks, this_week=this_week)


def adherence(*, assignment: PlanAssignment | None, done: int, today: date | None = None):
    """(done, planned) over the last four weeks of the assignment's date range."""
    if assignment is None:
        return done, 0
    today = today or timezone.localdate()
    start = max(assignment.starts_on, today - timedelta(days=ADHERENCE_DAYS - 1))
    end = min(assignment.ends_on or today, today)
    days = (end - start).days + 1
    if days <= 0:
        return done, 0
    planned = round(assignment.sessions_per_week * days / 7)
    return done, max(planned, 1)


def nutrition_target(*, member: Member, day: date | None = None) -> NutritionTarget | None:
    day = day or timezone.localdate()
    return (
        NutritionTarget.objects.filter(member=member, starts_on__lte=day)
        .select_related("trainer")
        .order_by("-starts_on", "-pk")
        .first()
    )


def nutrition_logs(*, member: Member, days: int = 14) -> list[NutritionLog]:
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(NutritionLog.objects.filter(member=member, day__gte=since).order_by("-day"))


# --- the trainer's client list --------------------------------------------------------


@dataclass
class ClientRow:
    member: Member
    assignment: PlanAssignment | None
    last_workout: object
    done: int
    planned: int
    records: int
    weight: Decimal | None

    @property
    def adherence_percent(self) -> int | None:
        if not self.planned:
            return None
        return min(100, round(100 * self.done / self.planned))


def trainer_clients(*, trainer: TrainerProfile) -> list[ClientRow]:
    """Each client with adherence, last workout, PR count and latest weight, in a
    fixed number of queries however many clients and logs there are."""
    today = timezone.localdate()
    since = today - timedelta(days=ADHERENCE_DAYS - 1)
    sessions = WorkoutSession.objects.filter(member=OuterRef("pk")).order_by()
    members = (
        Member.objects.filter(pk__in=trainer_client_ids(trainer=trainer))
        .select_related("home_branch")
        .annotate(
            last_workout=Subquery(sessions.order_by("-started_at").values("started_at")[:1]),
            done=Subquery(
                sessions.filter(started_at__date__gte=since)
                .values("member")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            record_count=Subquery(
                PersonalRecord.objects.filter(member=OuterRef("pk"))
                .order_by()
                .values("member")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            weight=Subquery(
                BodyMetric.objects.filter(member=OuterRef("pk"), kind=MetricKind.WEIGHT)
                .order_by("-measured_on", "-pk")
                .values("value")[:1]
            ),
        )
        .order_by("last_name", "first_name")
    )
    members = list(members)
    assignments: dict[int, PlanAssignment] = {}
    for row in (
        PlanAssignment.objects.filter(member__in=[m.pk for m in members], starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .select_related("plan")
        .order_by("member_id", "-starts_on", "-pk")
    ):
        assignments.setdefault(row.member_id, row)
    rows = []
    for member in members:
        assignment = assignments.get(member.pk)
        done, planned = adherence(assignment=assignment, done=member.done or 0, today=today)
        rows.append(
            ClientRow(
                member=member,
                assignment=assignment,
                last_workout=member.last_workout,
                done=done,
                planned=planned,
                records=member.record_count or 0,
                weight=member.weight,
            )
        )
    return rows
