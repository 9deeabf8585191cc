"""Demo data: two plan templates, trainers with plans assigned to some of their
members, four months of workouts that progress, weekly weigh-ins and girths, a custom
metric, nutrition targets and a few trainer comments, so the charts show real progress.

Plans go through the services; the months of logs are written in bulk (a demo seed
of thousands of sets), with the records computed by the same rule as live logging
(``services.record_candidates``)."""

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Member, TrainerProfile
from training import services
from training.models import (
    BodyMetric,
    Exercise,
    MetricKind,
    MetricType,
    NutritionTarget,
    PersonalRecord,
    Plan,
    PlanExercise,
    SetLog,
    WorkoutComment,
    WorkoutSession,
)

WEEKS = 16
TEMPLATES = {
    "Full body, three days": [
        ("Day A", [("Back Squat", 5, 60), ("Bench Press", 5, 45), ("Barbell Row", 8, 40)]),
        ("Day B", [("Romanian Deadlift", 8, 50), ("Overhead Press", 5, 30), ("Pull-Up", 6, 0)]),
        (
            "Day C",
            [("Front Squat", 6, 45), ("Incline Dumbbell Press", 10, 16), ("Rowing Machine", 0, 0)],
        ),
    ],
    "Upper / lower": [
        (
            "Lower",
            [("Conventional Deadlift", 5, 70), ("Bulgarian Split Squat", 10, 12), ("Plank", 0, 0)],
        ),
        (
            "Upper",
            [("Dumbbell Bench Press", 8, 20), ("Lat Pulldown", 10, 40), ("Lateral Raise", 12, 6)],
        ),
    ],
}
COMMENTS = [
    "Great depth on the squats today.",
    "Bar speed looked good, add 2.5 kg next time.",
    "Take the full rest between sets.",
    "Nice consistency this week!",
]


def _prescription(reps: int, load: int, exercise: Exercise) -> dict:
    if exercise.category == "cardio":
        return {"distance_m": 2000, "rest_seconds": 120}
    if not reps:
        return {"sets": 3, "duration_seconds": 45, "rest_seconds": 60}
    prescription = {"sets": 3, "reps": reps, "rest_seconds": 120 if reps <= 6 else 75}
    if load:
        prescription["load"] = {"kg": load}
    return prescription


def seed(*, organisation, rng: random.Random) -> None:
    if Plan.objects.exists():
        return
    library = {e.name: e for e in Exercise.objects.filter(organisation__isnull=True)}
    services.exercise_create(
        name="Spotter Sled Circuit",
        category="cardio",
        equipment="sled",
        primary_muscles=["full_body"],
        description="Push, pull and drag the sled across the turf, resting between rounds.",
        cues="Low hips\nShort fast steps",
        actor=None,
    )
    grip = MetricType.objects.create(name="Grip strength", unit="kg")
    trainers = list(TrainerProfile.objects.filter(is_active=True).order_by("pk")[:4])
    if not trainers:
        return
    templates = []
    for index, (name, days) in enumerate(TEMPLATES.items()):
        author = trainers[index % len(trainers)]
        plan = services.plan_create(
            name=name,
            is_template=True,
            trainer=author,
            actor=author.user,
            description="A starting plan to copy and adjust per member.",
        )
        for day_name, items in days:
            day = services.plan_day_add(plan=plan, name=day_name, actor=author.user)
            for exercise_name, reps, load in items:
                exercise = library[exercise_name]
                services.plan_exercise_add(
                    plan=plan,
                    day=day,
                    exercise=exercise,
                    prescription=_prescription(reps, load, exercise),
                    actor=author.user,
                )
        templates.append(plan)

    today = timezone.localdate()
    start = today - timedelta(weeks=WEEKS)
    demo_member = Member.objects.filter(user__email="member@demo.spotter").first()
    members = list(
        Member.objects.filter(status=Member.Status.ACTIVE, payer__isnull=True)
        .exclude(pk=getattr(demo_member, "pk", None))
        .order_by("pk")[:11]
    )
    if demo_member is not None:
        members.insert(0, demo_member)
    for index, member in enumerate(members):
        trainer = trainers[index % len(trainers)]
        assignment = services.plan_assign(
            plan=templates[index % len(templates)],
            member=member,
            trainer=trainer,
            starts_on=start,
            sessions_per_week=3,
            actor=trainer.user,
        )
        _workouts(member=member, assignment=assignment, trainer=trainer, rng=rng)
        _metrics(member=member, start=start, rng=rng, grip=grip)
        if index % 2 == 0:
            NutritionTarget.objects.create(
                member=member,
                trainer=trainer,
                starts_on=start,
                calories=2200 + 100 * (index % 5),
                protein_g=150,
                carbs_g=230,
                fat_g=70,
                notes="Protein at every meal; most carbohydrates around training.",
            )


def _workouts(*, member, assignment, trainer, rng) -> None:
    version = assignment.plan.current_version
    days = list(version.days.order_by("position"))
    items = {
        day.pk: list(PlanExercise.objects.filter(day=day).select_related("exercise"))
        for day in days
    }
    zone = timezone.get_current_timezone()
    strength = Decimal(rng.uniform(0.85, 1.15)).quantize(Decimal("0.01"))
    sessions, sets = [], []
    rotation = 0
    for week in range(WEEKS):
        for weekday in (0, 2, 4):
            if rng.random() < 0.15:  # a missed session
                continue
            day = days[rotation % len(days)]
            rotation += 1
            when = datetime.combine(
                assignment.starts_on + timedelta(weeks=week, days=weekday),
                time(7 + rng.randrange(12), rng.choice([0, 15, 30])),
                tzinfo=zone,
            )
            if when >= timezone.now():
                continue
            session = WorkoutSession(
                organisation_id=member.organisation_id,
                member=member,
                client_id=uuid.uuid4(),
                plan_version=version,
                plan_day=day,
                title=day.name,
                started_at=when,
                finished_at=when + timedelta(minutes=55),
            )
            sessions.append(session)
            for item in items[day.pk]:
                sets.extend(_sets(session, item, week, strength, when, rng))
    WorkoutSession.objects.bulk_create(sessions)
    for row in sets:
        row.session_id = row.session.pk
    SetLog.objects.bulk_create(sets)
    _records(member=member, sets=sets)
    for session in sessions[-6::2]:
        WorkoutComment.objects.create(
            session=session, author=trainer.user, body=rng.choice(COMMENTS)
        )


def _sets(session, item, week, strength, when, rng):
    p = item.prescription
    common = {
        "organisation_id": session.organisation_id,
        "session": session,
        "member_id": session.member_id,
        "exercise_id": item.exercise_id,
        "plan_exercise": item,
    }
    if "distance_m" in p:
        metres = Decimal(2000 + 40 * week + rng.randrange(-50, 50))
        return [
            SetLog(
                client_id=uuid.uuid4(),
                set_number=1,
                distance_m=metres,
                duration_seconds=480 - 3 * week,
                performed_at=when,
                **common,
            )
        ]
    rows = []
    base = Decimal(str((p.get("load") or {}).get("kg", 0)))
    # Linear progression: about 2.5 kg a fortnight, a little noise, a deload in week 9.
    load = (base * strength + Decimal("1.25") * week * (0 if week == 8 else 1)).quantize(
        Decimal("0.5")
    )
    for number in range(1, p.get("sets", 3) + 1):
        reps = p.get("reps")
        rows.append(
            SetLog(
                client_id=uuid.uuid4(),
                set_number=number,
                reps=(reps - (1 if number == 3 and rng.random() < 0.3 else 0)) if reps else None,
                load_kg=load if base else None,
                duration_seconds=None if reps else p.get("duration_seconds", 45) + week * 2,
                rpe=Decimal(rng.choice(["7", "7.5", "8", "8.5", "9"])) if reps else None,
                performed_at=when + timedelta(minutes=4 * number),
                **common,
            )
        )
    return rows


def _records(*, member, sets) -> None:
    best: dict[tuple, tuple] = {}
    for row in sorted(sets, key=lambda r: r.performed_at):
        for kind, value, at_load in services.record_candidates(row):
            key = (row.exercise_id, kind, at_load)
            if key not in best or value > best[key][0]:
                best[key] = (value, row)
    PersonalRecord.objects.bulk_create(
        PersonalRecord(
            organisation_id=member.organisation_id,
            member=member,
            exercise_id=exercise_id,
            kind=kind,
            at_load_kg=at_load,
            value=value,
            set_log_id=row.pk,
            achieved_at=row.performed_at,
        )
        for (exercise_id, kind, at_load), (value, row) in best.items()
    )


def _metrics(*, member, start, rng, grip) -> None:
    weight = Decimal(rng.uniform(62, 98)).quantize(Decimal("0.1"))
    fat = Decimal(rng.uniform(16, 30)).quantize(Decimal("0.1"))
    waist = Decimal(rng.uniform(72, 98)).quantize(Decimal("0.1"))
    rows = []
    for week in range(WEEKS + 1):
        day = start + timedelta(weeks=week)
        drift = Decimal(str(round(rng.uniform(-0.4, 0.3), 1)))
        rows.append(
            BodyMetric(
                member=member,
                kind=MetricKind.WEIGHT,
                unit="kg",
                value=weight - Decimal("0.25") * week + drift,
                measured_on=day,
            )
        )
        if week % 4 == 0:
            rows += [
                BodyMetric(
                    member=member,
                    kind=MetricKind.BODY_FAT,
                    unit="%",
                    value=fat - Decimal("0.4") * (week // 4),
                    measured_on=day,
                ),
                BodyMetric(
                    member=member,
                    kind=MetricKind.WAIST,
                    unit="cm",
                    value=waist - Decimal("0.6") * (week // 4),
                    measured_on=day,
                ),
                BodyMetric(
                    member=member,
                    kind=MetricKind.RESTING_HR,
                    unit="bpm",
                    value=Decimal(68 - week // 4),
                    measured_on=day,
                ),
                BodyMetric(
                    member=member,
                    kind=MetricKind.CUSTOM,
                    custom_type=grip,
                    unit="kg",
                    value=Decimal(38 + week // 2),
                    measured_on=day,
                ),
            ]
    for row in rows:
        row.organisation_id = member.organisation_id
    BodyMetric.objects.bulk_create(rows)
