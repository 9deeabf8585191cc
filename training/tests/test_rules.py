"""Prescription schema, personal records, plan versions, units, streaks."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gymsite.errors import ServiceError
from training import selectors, services
from training.models import Exercise, PersonalRecord, PlanExercise, RecordKind, SetLog
from training.prescription import prescription_errors, validate_prescription
from training.tests.factories import WorkoutSessionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "prescription",
    [
        {"sets": 3, "reps": 5},
        {"sets": 4, "reps": {"min": 8, "max": 12}, "load": {"kg": 60}, "rest_seconds": 90},
        {"sets": 5, "reps": 3, "load": {"percent_of_max": 85}, "rpe": 8.5, "tempo": "31X0"},
        {"duration_seconds": 1200, "distance_m": 5000},
        {},
    ],
)
def test_good_prescriptions_pass(prescription):
    assert prescription_errors(prescription) == []


@pytest.mark.parametrize(
    ("prescription", "where"),
    [
        ({"sets": 0}, "sets"),
        ({"sets": "three"}, "sets"),
        ({"reps": {"min": 12, "max": 8}}, "reps"),
        ({"reps": {"min": 8}}, "reps"),
        ({"load": {"kg": -5}}, "load"),
        ({"load": {"kg": 50, "percent_of_max": 70}}, "load"),
        ({"tempo": "slow"}, "tempo"),
        ({"rpe": 11}, "rpe"),
        ({"weight": 50}, "prescription"),
        (["sets", 3], "prescription"),
    ],
)
def test_bad_prescriptions_name_the_problem(prescription, where):
    errors = prescription_errors(prescription)
    assert errors and any(message.startswith(where) for message in errors), errors
    with pytest.raises(ValidationError):
        validate_prescription(prescription)


def test_bad_prescription_is_a_field_error_in_the_service_and_refused_on_save(
    assigned, squat, trainer
):
    plan = assigned.plan
    day = selectors.version_days(version_id=plan.current_version_id)[0]
    with pytest.raises(ServiceError) as refused:
        services.plan_exercise_add(
            plan=plan, day=day, exercise=squat, prescription={"sets": -1}, actor=trainer.user
        )
    assert refused.value.field == "prescription"
    item = day.exercises.first()
    item.prescription = {"reps": "lots"}
    with pytest.raises(ValidationError):
        item.save()
    item.refresh_from_db()
    assert item.prescription["reps"] == 5


def _log(session, exercise, reps=None, load=None, distance=None, days_ago=0):
    return services.set_log(
        session=session,
        client_id=uuid.uuid4(),
        exercise=exercise,
        reps=reps,
        load_kg=None if load is None else Decimal(load),
        distance_m=None if distance is None else Decimal(distance),
        performed_at=timezone.now() - timedelta(days=days_ago),
    )


def test_records_follow_a_sequence_of_logs(in_gym, member, squat, row_erg):
    session = services.workout_start(member=member)
    # given: a first set, then lighter, heavier, more reps at a load, and a row
    first = _log(session, squat, reps=5, load="100")
    lighter = _log(session, squat, reps=5, load="90")
    heavier_single = _log(session, squat, reps=1, load="115")
    more_reps = _log(session, squat, reps=8, load="100")
    triple = _log(session, squat, reps=3, load="110")
    row_short = _log(session, row_erg, distance="2000")
    row_long = _log(session, row_erg, distance="5000")
    row_shorter = _log(session, row_erg, distance="1000")

    kinds = lambda logged: {(r.kind, r.at_load_kg) for r in logged.records}  # noqa: E731
    # then: each set raised exactly the records it beat
    assert kinds(first) == {
        (RecordKind.HEAVIEST_LOAD, 0),
        (RecordKind.BEST_E1RM, 0),
        (RecordKind.MOST_REPS, Decimal("100")),
    }
    assert kinds(lighter) == {(RecordKind.MOST_REPS, Decimal("90"))}
    assert kinds(heavier_single) == {
        (RecordKind.HEAVIEST_LOAD, 0),
        (RecordKind.MOST_REPS, Decimal("115")),
    }  # 115 x 1 = 115 e1RM < 100 x 5 = 116.67
    assert kinds(more_reps) == {(RecordKind.BEST_E1RM, 0), (RecordKind.MOST_REPS, Decimal("100"))}
    assert kinds(triple) == {(RecordKind.MOST_REPS, Decimal("110"))}  # e1RM 121 < 126.67
    assert kinds(row_long) == {(RecordKind.LONGEST_DISTANCE, 0)}
    assert row_shorter.records == [] and kinds(row_short) == {(RecordKind.LONGEST_DISTANCE, 0)}

    best = {
        (r.exercise_id, r.kind, r.at_load_kg): r for r in selectors.member_records(member=member)
    }
    assert best[(squat.pk, RecordKind.HEAVIEST_LOAD, 0)].value == Decimal("115")
    assert best[(squat.pk, RecordKind.BEST_E1RM, 0)].value == Decimal("126.67")  # 100 x 8
    assert best[(squat.pk, RecordKind.BEST_E1RM, 0)].set_log_id == more_reps.set_log.pk
    assert best[(squat.pk, RecordKind.MOST_REPS, Decimal("100"))].value == 8
    assert best[(row_erg.pk, RecordKind.LONGEST_DISTANCE, 0)].value == Decimal("5000")
    # squat: heaviest, e1RM, most reps at 90, 100, 110, 115; row: longest
    assert PersonalRecord.objects.filter(member=member).count() == 7


def test_editing_a_used_plan_makes_a_new_version_and_keeps_the_log(
    assigned, member, trainer, squat
):
    plan = assigned.plan
    version_one = plan.current_version
    day_a = selectors.version_days(version_id=version_one.pk)[0]
    item = day_a.exercises.get()
    # given: the member logged a set of Day A as it was
    session = services.workout_start(member=member, plan_day=day_a)
    logged = services.set_log(
        session=session,
        client_id=uuid.uuid4(),
        exercise=squat,
        plan_exercise=item,
        reps=5,
        load_kg=Decimal("100"),
    )
    # when: the trainer changes the prescription and adds a day
    services.plan_exercise_update(
        plan=plan,
        item=item,
        prescription={"sets": 5, "reps": 3, "load": {"kg": 110}},
        actor=trainer.user,
    )
    services.plan_day_add(plan=plan, name="Day C", actor=trainer.user)
    # then: a second version holds the change, the first (and the log) is untouched
    plan.refresh_from_db()
    assert plan.current_version.number == 2
    item.refresh_from_db()
    assert item.prescription == {"sets": 3, "reps": 5, "load": {"kg": 100}, "rest_seconds": 180}
    set_row = SetLog.objects.select_related("plan_exercise__day__version").get(pk=logged.set_log.pk)
    assert set_row.plan_exercise.day.version_id == version_one.pk
    assert set_row.plan_exercise.prescription["load"] == {"kg": 100}
    new_days = selectors.version_days(version_id=plan.current_version_id)
    assert [d.name for d in new_days] == ["Day A", "Day B", "Day C"]
    assert new_days[0].exercises.get().prescription == {"sets": 5, "reps": 3, "load": {"kg": 110}}
    # and a further edit before anything is logged on version 2 stays in version 2
    services.plan_day_add(plan=plan, name="Day D", actor=trainer.user)
    plan.refresh_from_db()
    assert plan.current_version.number == 2


def test_assigning_a_template_copies_it_for_the_member(assigned, member, other_member, trainer):
    template = assigned.plan.source
    assert template.is_template and assigned.plan.member_id == member.pk
    second = services.plan_assign(
        plan=template,
        member=other_member,
        trainer=trainer,
        starts_on=timezone.localdate(),
        actor=trainer.user,
    )
    assert second.plan_id != assigned.plan_id
    services.plan_exercise_update(
        plan=assigned.plan,
        item=PlanExercise.objects.filter(day__version=assigned.plan.current_version).first(),
        prescription={"sets": 1, "reps": 1},
        actor=trainer.user,
    )
    others = PlanExercise.objects.filter(day__version=second.plan.current_version)
    assert {p.prescription.get("sets") for p in others} == {3}


def test_today_follows_the_rotation_and_resolves_percent_of_max(assigned, member, squat, bench):
    today = selectors.today_workout(member=member)
    assert today.day.name == "Day A"
    assert today.exercises[0].target_kg == 100
    # a workout on Day A moves the member on to Day B, whose 75% uses their best bench
    session = services.workout_start(member=member, plan_day=today.day)
    session.started_at = timezone.now() - timedelta(days=1)
    session.save()
    free = services.workout_start(member=member, started_at=timezone.now() - timedelta(days=2))
    services.set_log(
        session=free, client_id=uuid.uuid4(), exercise=bench, reps=5, load_kg=Decimal("90")
    )  # e1RM 105
    today = selectors.today_workout(member=member)
    assert today.day.name == "Day B"
    assert today.exercises[0].target_kg == 80  # 75% of 105 = 78.75 → 80 on 2.5 kg plates


def test_metric_units_are_converted_and_checked(in_gym, member):
    weight = services.metric_record(
        member=member, kind="weight", value=Decimal("180"), unit="lb", actor=None
    )
    assert (weight.value, weight.unit) == (Decimal("81.65"), "kg")
    with pytest.raises(ServiceError) as refused:
        services.metric_record(
            member=member, kind="waist", value=Decimal("80"), unit="kg", actor=None
        )
    assert refused.value.field == "unit"
    with pytest.raises(ServiceError):
        services.metric_record(member=member, kind="custom", value=Decimal("1"), actor=None)


def test_streak_counts_consecutive_weeks(in_gym, member):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    for weeks_ago in (1, 2, 3, 5):
        WorkoutSessionFactory(
            member=member,
            started_at=timezone.make_aware(
                timezone.datetime.combine(
                    monday - timedelta(weeks=weeks_ago), timezone.datetime.min.time()
                )
            )
            + timedelta(hours=12),
        )
    streak = selectors.attendance_streak(member=member, today=today)
    assert streak == selectors.Streak(weeks=3, this_week=0)
    services.workout_start(member=member)
    assert selectors.attendance_streak(member=member, today=today) == selectors.Streak(4, 1)


def test_the_shared_library_is_large_read_only_and_gyms_add_their_own(in_gym, gym, other_gym):
    shared = Exercise.objects.filter(organisation__isnull=True)
    assert shared.count() >= 120
    squat = shared.get(name="Back Squat")
    squat.description = "changed"
    with pytest.raises(ServiceError):
        squat.save()
    assert Exercise.objects.filter(pk=squat.pk).update(name="x") == 0  # writes: own rows only
    own = services.exercise_create(name="Sandbag Clean", category="strength", actor=None)
    assert own.organisation_id == gym.pk
    from accounts.tenancy import tenant_scope

    with tenant_scope(other_gym):
        names = set(Exercise.objects.values_list("name", flat=True))
    assert "Back Squat" in names and "Sandbag Clean" not in names
    with pytest.raises(ServiceError) as duplicate:
        services.exercise_create(name="back squat", category="strength", actor=None)
    assert duplicate.value.field == "name"
    found = selectors.exercise_search(query="squat", equipment="barbell", muscle="quads")
    assert "Back Squat" in {e.name for e in found}
    assert all(e.equipment == "barbell" for e in found)
