"""Factories for class types, rooms, schedules and sessions (organisation passed explicitly)."""

from datetime import time, timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import BranchFactory, OrganisationFactory
from classes.models import (
    ClassCategory,
    ClassSchedule,
    ClassSession,
    ClassType,
    Room,
    ScheduleException,
)


class ClassCategoryFactory(DjangoModelFactory):
    class Meta:
        model = ClassCategory

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ClassTypeFactory(DjangoModelFactory):
    class Meta:
        model = ClassType

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Class {n}")
    slug = factory.Sequence(lambda n: f"class-{n}")
    category = factory.SubFactory(
        ClassCategoryFactory, organisation=factory.SelfAttribute("..organisation")
    )
    duration_minutes = 60
    default_capacity = 20


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = Room

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    name = factory.Sequence(lambda n: f"Studio {n}")
    capacity = 40


class ClassScheduleFactory(DjangoModelFactory):
    class Meta:
        model = ClassSchedule

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    class_type = factory.SubFactory(
        ClassTypeFactory, organisation=factory.SelfAttribute("..organisation")
    )
    weekdays = [0, 2, 4]
    start_time = time(7, 0)
    duration_minutes = 60
    capacity = 20
    starts_on = factory.LazyFunction(timezone.localdate)


class ScheduleExceptionFactory(DjangoModelFactory):
    class Meta:
        model = ScheduleException

    schedule = factory.SubFactory(ClassScheduleFactory)
    organisation = factory.SelfAttribute("schedule.organisation")
    date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))


class ClassSessionFactory(DjangoModelFactory):
    """A one-off session two days ahead (starts_at may be overridden)."""

    class Meta:
        model = ClassSession

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    class_type = factory.SubFactory(
        ClassTypeFactory, organisation=factory.SelfAttribute("..organisation")
    )
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=60))
    occurrence_date = factory.LazyAttribute(lambda o: o.starts_at.date())
    capacity = 20


def weekly_series(gym, branch, **fields):
    """A weekly series on today's weekday from today, materialised 4 weeks ahead; returns
    it and its sessions after today."""
    from classes import services

    today = timezone.localdate()
    schedule = ClassScheduleFactory(
        organisation=gym, branch=branch, weekdays=[today.weekday()], starts_on=today, **fields
    )
    services.schedule_materialise(schedule=schedule, weeks=4, today=today)
    sessions = list(
        ClassSession.objects.filter(schedule=schedule, occurrence_date__gt=today).order_by(
            "starts_at"
        )
    )
    return schedule, sessions
