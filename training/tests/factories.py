"""Factories for training data (organisation passed explicitly or taken from the member)."""

import uuid
from datetime import date
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import MemberFactory, OrganisationFactory, UserFactory
from training.models import (
    BodyMetric,
    Category,
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


class ExerciseFactory(DjangoModelFactory):
    """A gym's own exercise."""

    class Meta:
        model = Exercise

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Exercise {n}")
    category = Category.STRENGTH
    primary_muscles = ["quads"]


class PlanFactory(DjangoModelFactory):
    """A member's plan (no version: build plans through services in behaviour tests)."""

    class Meta:
        model = Plan

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    name = factory.Sequence(lambda n: f"Plan {n}")


class PlanVersionFactory(DjangoModelFactory):
    class Meta:
        model = PlanVersion

    plan = factory.SubFactory(PlanFactory)
    organisation = factory.SelfAttribute("plan.organisation")
    number = 1


class PlanDayFactory(DjangoModelFactory):
    class Meta:
        model = PlanDay

    version = factory.SubFactory(PlanVersionFactory)
    organisation = factory.SelfAttribute("version.organisation")
    name = "Day A"


class PlanExerciseFactory(DjangoModelFactory):
    class Meta:
        model = PlanExercise

    day = factory.SubFactory(PlanDayFactory)
    organisation = factory.SelfAttribute("day.organisation")
    exercise = factory.SubFactory(
        ExerciseFactory, organisation=factory.SelfAttribute("..organisation")
    )
    prescription = {"sets": 3, "reps": 8}


class PlanAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = PlanAssignment

    plan = factory.SubFactory(PlanFactory)
    organisation = factory.SelfAttribute("plan.organisation")
    member = factory.SelfAttribute("plan.member")
    starts_on = factory.LazyFunction(timezone.localdate)


class WorkoutSessionFactory(DjangoModelFactory):
    class Meta:
        model = WorkoutSession

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    title = "Free workout"


class SetLogFactory(DjangoModelFactory):
    class Meta:
        model = SetLog

    session = factory.SubFactory(WorkoutSessionFactory)
    organisation = factory.SelfAttribute("session.organisation")
    member = factory.SelfAttribute("session.member")
    exercise = factory.SubFactory(
        ExerciseFactory, organisation=factory.SelfAttribute("..organisation")
    )
    client_id = factory.LazyFunction(uuid.uuid4)
    reps = 5
    load_kg = Decimal("100")


class WorkoutCommentFactory(DjangoModelFactory):
    class Meta:
        model = WorkoutComment

    session = factory.SubFactory(WorkoutSessionFactory)
    organisation = factory.SelfAttribute("session.organisation")
    author = factory.SubFactory(UserFactory)
    body = "Strong session."


class PersonalRecordFactory(DjangoModelFactory):
    class Meta:
        model = PersonalRecord

    set_log = factory.SubFactory(SetLogFactory)
    organisation = factory.SelfAttribute("set_log.organisation")
    member = factory.SelfAttribute("set_log.member")
    exercise = factory.SelfAttribute("set_log.exercise")
    kind = RecordKind.HEAVIEST_LOAD
    value = Decimal("100")
    achieved_at = factory.LazyFunction(timezone.now)


class MetricTypeFactory(DjangoModelFactory):
    class Meta:
        model = MetricType

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Grip strength {n}")
    unit = "kg"


class BodyMetricFactory(DjangoModelFactory):
    class Meta:
        model = BodyMetric

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    kind = MetricKind.WEIGHT
    value = Decimal("80.0")
    unit = "kg"
    measured_on = factory.LazyFunction(timezone.localdate)


class ProgressPhotoFactory(DjangoModelFactory):
    class Meta:
        model = ProgressPhoto

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    image = factory.LazyFunction(lambda: ContentFile(b"\xff\xd8\xff\xe0 photo", name="me.jpg"))


class NutritionTargetFactory(DjangoModelFactory):
    class Meta:
        model = NutritionTarget

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    calories = 2400
    protein_g = 160


class NutritionLogFactory(DjangoModelFactory):
    class Meta:
        model = NutritionLog

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    day = factory.LazyFunction(lambda: date(2026, 1, 1))
    calories = 2200
