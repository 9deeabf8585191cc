"""Writes: exercises, plans and their versions, workout logging, records, metrics,
photos, nutrition and comments. One transaction each; refusals are ServiceErrors.

Lock order within this app: plan → plan version (an edit locks the plan row first,
then decides whether its current version is frozen).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Member, TrainerProfile, User
from accounts.services import audit_record
from gymsite.errors import Conflict, NotAllowed, ServiceError
from training import selectors
from training.models import (
    METRIC_UNITS,
    UNIT_CONVERSIONS,
    BodyMetric,
    Exercise,
    MetricKind,
    MetricType,
    NutritionLog,
    NutritionTarget,
    PersonalRecord,
    Plan,
    PlanAssignment,
    PlanDay,
    PlanExercise,
    PlanVersion,
    ProgressPhoto,
    RecordKind,
    SetLog,
    WorkoutComment,
    WorkoutSession,
)
from training.prescription import prescription_errors

# --- exercises ------------------------------------------------------------------------


@transaction.atomic
def exercise_create(*, actor: User | None, **fields) -> Exercise:
    """A gym's own exercise (the shared library is loaded by migration only)."""
    exercise = Exercise(**fields)
    if Exercise.objects.filter(name__iexact=exercise.name).exists():
        raise ServiceError(
            _("An exercise with this name is already in the library."),
            code="duplicate",
            field="name",
        )
    _full_clean(exercise, exclude=["organisation"])
    exercise.save()
    return exercise


def _full_clean(obj, exclude=None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(
            " ".join(messages), code="invalid", field=None if field == "__all__" else field
        ) from exc


# --- plans and versions ---------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    name: str,
    actor: User | None,
    description: str = "",
    member: Member | None = None,
    trainer: TrainerProfile | None = None,
    is_template: bool = False,
) -> Plan:
    if is_template and member is not None:
        raise ServiceError(_("A template is not anyone's plan."), code="invalid", field="member")
    plan = Plan(
        name=name,
        description=description,
        member=member,
        trainer=trainer,
        is_template=is_template,
        created_by=actor,
    )
    _full_clean(plan)
    plan.save()
    version = PlanVersion.objects.create(plan=plan, number=1, created_by=actor)
    Plan.objects.filter(pk=plan.pk).update(current_version=version)
    plan.current_version = version
    return plan


def _locked_plan(plan: Plan) -> Plan:
    return (
        Plan.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .get(pk=plan.pk)
    )


def _copy_days(*, source: PlanVersion, target: PlanVersion) -> dict[int, PlanDay]:
    """Copy a version's days and exercises into another; old day id → new day."""
    mapping: dict[int, PlanDay] = {}
    days = selectors.version_days(version_id=source.pk)
    new_days = PlanDay.objects.bulk_create(
        PlanDay(
            organisation_id=target.organisation_id,
            version=target,
            position=day.position,
            name=day.name,
            notes=day.notes,
        )
        for day in days
    )
    items = []
    for old, new in zip(days, new_days, strict=True):
        mapping[old.pk] = new
        items.extend(
            PlanExercise(
                organisation_id=target.organisation_id,
                day=new,
                position=item.position,
                exercise_id=item.exercise_id,
                prescription=item.prescription,
                superset=item.superset,
            )
            for item in old.exercises.all()
        )
    PlanExercise.objects.bulk_create(items)
    return mapping


@dataclass
class EditableVersion:
    version: PlanVersion
    # Days of the version the caller knew → the same day in the editable version.
    days: dict[int, PlanDay]
    new: bool


def _editable_version(*, plan: Plan, actor: User | None) -> EditableVersion:
    """The plan's current version if nothing was logged against it yet; otherwise a
    new version copied from it (what a member logged keeps pointing at the old one)."""
    plan = _locked_plan(plan)
    current = plan.current_version
    if not WorkoutSession.objects.filter(plan_version=current).exists():
        return EditableVersion(current, {}, new=False)
    version = PlanVersion.objects.create(plan=plan, number=current.number + 1, created_by=actor)
    mapping = _copy_days(source=current, target=version)
    Plan.objects.filter(pk=plan.pk).update(current_version=version)
    return EditableVersion(version, mapping, new=True)


def _day_in(editable: EditableVersion, day: PlanDay) -> PlanDay:
    if day.pk in editable.days:
        return editable.days[day.pk]
    if day.version_id != editable.version.pk:
        raise ServiceError(_("This day belongs to another plan."), code="invalid", field="day")
    return day


def _item_in(editable: EditableVersion, item: PlanExercise) -> PlanExercise:
    if not editable.new:
        if item.day.version_id != editable.version.pk:
            raise ServiceError(_("This exercise is not in the plan."), code="invalid")
        return item
    new_day = editable.days[item.day_id]
    return PlanExercise.objects.get(day=new_day, position=item.position, exercise=item.exercise_id)


def _check_prescription(prescription) -> None:
    errors = prescription_errors(prescription)
    if errors:
        raise ServiceError(" ".join(errors), code="invalid_prescription", field="prescription")


@transaction.atomic
def plan_update(*, plan: Plan, actor: User | None, name: str, description: str = "") -> Plan:
    Plan.objects.filter(pk=plan.pk).update(name=name, description=description)
    plan.name, plan.description = name, description
    return plan


@transaction.atomic
def plan_day_add(*, plan: Plan, actor: User | None, name: str, notes: str = "") -> PlanDay:
    editable = _editable_version(plan=plan, actor=actor)
    position = PlanDay.objects.filter(version=editable.version).count()
    return PlanDay.objects.create(
        version=editable.version, position=position, name=name, notes=notes
    )


@transaction.atomic
def plan_exercise_add(
    *,
    plan: Plan,
    day: PlanDay,
    exercise: Exercise,
    prescription: dict,
    actor: User | None,
    superset: str = "",
) -> PlanExercise:
    _check_prescription(prescription)
    editable = _editable_version(plan=plan, actor=actor)
    day = _day_in(editable, day)
    position = PlanExercise.objects.filter(day=day).count()
    return PlanExercise.objects.create(
        day=day,
        position=position,
        exercise=exercise,
        prescription=prescription,
        superset=superset.upper(),
    )


@transaction.atomic
def plan_exercise_update(
    *,
    plan: Plan,
    item: PlanExercise,
    prescription: dict,
    actor: User | None,
    superset: str = "",
) -> PlanExercise:
    _check_prescription(prescription)
    editable = _editable_version(plan=plan, actor=actor)
    item = _item_in(editable, item)
    item.prescription = prescription
    item.superset = superset.upper()
    item.save(update_fields=["prescription", "superset"])
    return item


@transaction.atomic
def plan_exercise_remove(*, plan: Plan, item: PlanExercise, actor: User | None) -> None:
    editable = _editable_version(plan=plan, actor=actor)
    _item_in(editable, item).delete()


@transaction.atomic
def plan_copy(
    *, plan: Plan, actor: User | None, member: Member | None, trainer: TrainerProfile | None
) -> Plan:
    """A member's own copy of a plan (usually a template), to adjust for them."""
    copy = plan_create(
        name=plan.name,
        description=plan.description,
        member=member,
        trainer=trainer,
        actor=actor,
    )
    Plan.objects.filter(pk=copy.pk).update(source=plan)
    copy.source = plan
    _copy_days(source=plan.current_version, target=copy.current_version)
    return copy


@transaction.atomic
def plan_assign(
    *,
    plan: Plan,
    member: Member,
    actor: User | None,
    trainer: TrainerProfile | None,
    starts_on: date,
    ends_on: date | None = None,
    sessions_per_week: int = 3,
) -> PlanAssignment:
    """Assign a plan for a date range. A template (or another member's plan) is copied
    first, so adjusting it for this member changes nobody else's."""
    if ends_on is not None and ends_on < starts_on:
        raise ServiceError(
            _("The end date is before the start date."), code="invalid", field="ends_on"
        )
    if plan.is_template or plan.member_id != member.pk:
        plan = plan_copy(plan=plan, member=member, trainer=trainer, actor=actor)
    assignment = PlanAssignment.objects.create(
        plan=plan,
        member=member,
        trainer=trainer,
        starts_on=starts_on,
        ends_on=ends_on,
        sessions_per_week=sessions_per_week,
    )
    audit_record(actor=actor, action="training.plan_assign", target=assignment)
    return assignment


# --- workout logging ------------------------------------------------------------------


@transaction.atomic
def workout_start(
    *,
    member: Member,
    client_id: uuid.UUID | None = None,
    plan_day: PlanDay | None = None,
    title: str = "",
    started_at: datetime | None = None,
) -> WorkoutSession:
    """Start (or find again) a workout. The phone's id makes a retry, or a session
    started offline and sent later, the same workout."""
    if plan_day is not None:
        plan = plan_day.version.plan
        if plan.member_id not in (None, member.pk):
            raise NotAllowed(_("This plan is not yours."), code="not_yours", field="plan_day")
    session, _created = WorkoutSession.objects.get_or_create(
        client_id=client_id or uuid.uuid4(),
        defaults={
            "member": member,
            "plan_day": plan_day,
            "plan_version_id": plan_day.version_id if plan_day else None,
            "title": title or (plan_day.name if plan_day else _("Free workout")),
            "started_at": started_at or timezone.now(),
        },
    )
    if session.member_id != member.pk:
        raise Conflict(_("This workout id is already used."), code="client_id_taken")
    return session


@cache
def _set_insert_sql() -> tuple[str, tuple[str, ...]]:
    fields = tuple(f for f in SetLog._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    # Built from our own model's column names only, once per process.
    sql = (
        f"INSERT INTO {quote(SetLog._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        "ON CONFLICT (organisation_id, client_id) DO NOTHING RETURNING id"
    )
    return sql, tuple(f.attname for f in fields)


@dataclass
class LoggedSet:
    set_log: SetLog
    created: bool
    records: list[PersonalRecord]


@transaction.atomic
def set_log(
    *,
    session: WorkoutSession,
    client_id: uuid.UUID,
    exercise: Exercise,
    plan_exercise: PlanExercise | None = None,
    set_number: int = 1,
    reps: int | None = None,
    load_kg: Decimal | None = None,
    rpe: Decimal | None = None,
    duration_seconds: int | None = None,
    distance_m: Decimal | None = None,
    notes: str = "",
    performed_at: datetime | None = None,
) -> LoggedSet:
    """Record one set, once: the same ``client_id`` sent again (a retry, a resent
    offline session, two requests racing) returns the set first recorded."""
    if reps is None and duration_seconds is None and distance_m is None:
        raise ServiceError(
            _("Say what you did: reps, a time or a distance."), code="empty", field="reps"
        )
    if plan_exercise is not None:
        if session.plan_version_id is None or plan_exercise.day.version_id != (
            session.plan_version_id
        ):
            raise ServiceError(
                _("This exercise is not part of this workout's plan."),
                code="invalid",
                field="plan_exercise",
            )
        exercise = plan_exercise.exercise
    row = SetLog(
        client_id=client_id,
        session=session,
        member_id=session.member_id,
        organisation_id=session.organisation_id,
        exercise=exercise,
        plan_exercise=plan_exercise,
        set_number=set_number,
        reps=reps,
        load_kg=load_kg,
        rpe=rpe,
        duration_seconds=duration_seconds,
        distance_m=distance_m,
        notes=notes,
        performed_at=performed_at or timezone.now(),
    )
    _full_clean(row, exclude=["session", "member", "exercise", "plan_exercise"])
    row.check_scope_for_save()
    sql, attnames = _set_insert_sql()
    fields = {f.attname: f for f in SetLog._meta.concrete_fields}
    params = [fields[name].get_db_prep_save(getattr(row, name), connection) for name in attnames]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is None:
        existing = SetLog.objects.get(client_id=client_id)
        if existing.session_id != session.pk:
            raise Conflict(_("This set id is already used."), code="client_id_taken")
        return LoggedSet(existing, created=False, records=[])
    row.pk = inserted[0]
    row._state.adding = False
    return LoggedSet(row, created=True, records=records_update(set_log=row))


def record_candidates(row: SetLog) -> list[tuple[str, Decimal, Decimal]]:
    """(kind, value, at_load_kg) this set may be a record for."""
    found = []
    load = row.load_kg
    if load and row.reps:
        found.append((RecordKind.HEAVIEST_LOAD, load, Decimal(0)))
        if row.reps <= selectors.E1RM_MAX_REPS:
            found.append((RecordKind.BEST_E1RM, selectors.epley(load, row.reps), Decimal(0)))
    if row.reps:
        found.append((RecordKind.MOST_REPS, Decimal(row.reps), load or Decimal(0)))
    if row.distance_m:
        found.append((RecordKind.LONGEST_DISTANCE, row.distance_m, Decimal(0)))
    return found


def records_update(*, set_log: SetLog) -> list[PersonalRecord]:
    """Raise the member's records this set beats. Each is a conditional update (the
    row count says whether this set won), or an insert when it is the first."""
    won = False
    for kind, value, at_load in record_candidates(set_log):
        key = {
            "member_id": set_log.member_id,
            "exercise_id": set_log.exercise_id,
            "kind": kind,
            "at_load_kg": at_load,
        }
        change = {"value": value, "set_log": set_log, "achieved_at": set_log.performed_at}
        if PersonalRecord.objects.filter(**key, value__lt=value).update(**change):
            won = True
            continue
        created = PersonalRecord.objects.bulk_create(
            [PersonalRecord(organisation_id=set_log.organisation_id, **key, **change)],
            ignore_conflicts=True,
        )
        # Someone else's first record arrived between: beat it if this set is better.
        won |= bool(PersonalRecord.objects.filter(**key, value__lt=value).update(**change))
        won |= bool(created)
    if not won:
        return []
    return list(PersonalRecord.objects.filter(set_log=set_log).select_related("exercise"))


@transaction.atomic
def workout_finish(
    *, session: WorkoutSession, finished_at: datetime | None = None, notes: str | None = None
) -> WorkoutSession:
    """Finish a workout; finishing again keeps the first time (a resent request)."""
    changes = {}
    if session.finished_at is None:
        changes["finished_at"] = finished_at or timezone.now()
    if notes is not None:
        changes["notes"] = notes
    if changes:
        WorkoutSession.objects.filter(pk=session.pk).update(**changes)
        for name, value in changes.items():
            setattr(session, name, value)
    return session


@transaction.atomic
def workout_sync(
    *,
    member: Member,
    client_id: uuid.UUID,
    started_at: datetime,
    sets: list[dict],
    plan_day: PlanDay | None = None,
    title: str = "",
    finished_at: datetime | None = None,
    notes: str | None = None,
) -> tuple[WorkoutSession, list[LoggedSet]]:
    """A whole workout recorded offline, sent when the phone is back online (maybe
    more than once): the session and each set are recorded once."""
    session = workout_start(
        member=member, client_id=client_id, plan_day=plan_day, title=title, started_at=started_at
    )
    logged = [set_log(session=session, **entry) for entry in sets]
    if finished_at is not None or notes is not None:
        workout_finish(session=session, finished_at=finished_at, notes=notes)
    return session, logged


@transaction.atomic
def workout_comment_add(*, session: WorkoutSession, author: User, body: str) -> WorkoutComment:
    if selectors.viewer_of(user=author, member=session.member) is None:
        raise NotAllowed(_("You cannot comment on this workout."), code="not_allowed")
    body = body.strip()
    if not body:
        raise ServiceError(_("Write a comment."), code="empty", field="body")
    return WorkoutComment.objects.create(session=session, author=author, body=body[:2000])


# --- body metrics, photos, nutrition --------------------------------------------------


def _to_stored_unit(*, kind: str, value: Decimal, unit: str, custom_type: MetricType | None):
    stored = custom_type.unit if kind == MetricKind.CUSTOM else METRIC_UNITS[kind]
    unit = unit or stored
    if unit == stored:
        return value, stored
    factor = UNIT_CONVERSIONS.get((unit, stored))
    if factor is None:
        raise ServiceError(
            _("%(kind)s is measured in %(unit)s.") % {"kind": kind, "unit": stored},
            code="invalid_unit",
            field="unit",
        )
    return (value * factor).quantize(Decimal("0.01")), stored


@transaction.atomic
def metric_record(
    *,
    member: Member,
    kind: str,
    value: Decimal,
    actor: User | None,
    measured_on: date | None = None,
    unit: str = "",
    custom_type: MetricType | None = None,
    note: str = "",
) -> BodyMetric:
    if kind not in MetricKind.values:
        raise ServiceError(_("Unknown measurement."), code="invalid", field="kind")
    if (kind == MetricKind.CUSTOM) != (custom_type is not None):
        raise ServiceError(
            _("Choose the gym's measurement for a custom metric."),
            code="invalid",
            field="custom_type",
        )
    if value is None or value <= 0:
        raise ServiceError(_("Enter a value above zero."), code="invalid", field="value")
    if kind == MetricKind.BODY_FAT and value >= 100:
        raise ServiceError(_("Body fat is a percentage."), code="invalid", field="value")
    stored, stored_unit = _to_stored_unit(
        kind=kind, value=Decimal(value), unit=unit, custom_type=custom_type
    )
    return BodyMetric.objects.create(
        member=member,
        kind=kind,
        custom_type=custom_type,
        value=stored,
        unit=stored_unit,
        measured_on=measured_on or timezone.localdate(),
        note=note,
        recorded_by=actor,
    )


@transaction.atomic
def photo_upload(
    *, member: Member, image, actor: User | None, taken_on: date | None = None, note: str = ""
) -> ProgressPhoto:
    photo = ProgressPhoto(
        member=member,
        taken_on=taken_on or timezone.localdate(),
        note=note,
        uploaded_by=actor,
        organisation_id=member.organisation_id,
    )
    photo.image.save(image.name, image, save=False)
    photo.save()
    return photo


@transaction.atomic
def nutrition_target_set(
    *,
    member: Member,
    actor: User | None,
    trainer: TrainerProfile | None,
    calories: int,
    protein_g: int = 0,
    carbs_g: int = 0,
    fat_g: int = 0,
    notes: str = "",
    starts_on: date | None = None,
) -> NutritionTarget:
    target = NutritionTarget(
        member=member,
        trainer=trainer,
        calories=calories,
        protein_g=protein_g,
        carbs_g=carbs_g,
        fat_g=fat_g,
        notes=notes,
        starts_on=starts_on or timezone.localdate(),
    )
    _full_clean(target, exclude=["member", "trainer"])
    target.save()
    return target


@transaction.atomic
def nutrition_log_save(*, member: Member, day: date, **totals) -> NutritionLog:
    """The day's totals (saving the same day again replaces them)."""
    log, _created = NutritionLog.objects.update_or_create(member=member, day=day, defaults=totals)
    return log
