"""Factories for booking rules, bookings and appointments (organisation passed explicitly)."""

from datetime import time, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import (
    BranchFactory,
    MemberFactory,
    OrganisationFactory,
    TrainerProfileFactory,
)
from bookings.models import (
    Appointment,
    AppointmentService,
    Booking,
    BookingPolicy,
    CalendarFeed,
    TrainerAvailability,
)
from classes.tests.factories import ClassSessionFactory


class BookingPolicyFactory(DjangoModelFactory):
    class Meta:
        model = BookingPolicy

    organisation = factory.SubFactory(OrganisationFactory)
    currency = "GBP"


class BookingFactory(DjangoModelFactory):
    """A booked place (counters are not touched: build through services in behaviour tests)."""

    class Meta:
        model = Booking

    session = factory.SubFactory(ClassSessionFactory)
    organisation = factory.SelfAttribute("session.organisation")
    member = factory.SubFactory(
        MemberFactory, home_branch=factory.SelfAttribute("..session.branch")
    )
    status = Booking.Status.BOOKED
    arrival = factory.Sequence(lambda n: n + 1)


class AppointmentServiceFactory(DjangoModelFactory):
    class Meta:
        model = AppointmentService

    organisation = factory.SubFactory(OrganisationFactory)
    name = "Personal training (60 min)"
    duration_minutes = 60
    price = Decimal("50.00")
    currency = "GBP"


class TrainerAvailabilityFactory(DjangoModelFactory):
    class Meta:
        model = TrainerAvailability

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    trainer = factory.SubFactory(
        TrainerProfileFactory, organisation=factory.SelfAttribute("..organisation")
    )
    weekday = 0
    start_time = time(9, 0)
    end_time = time(17, 0)


class AppointmentFactory(DjangoModelFactory):
    class Meta:
        model = Appointment

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    service = factory.SubFactory(
        AppointmentServiceFactory, organisation=factory.SelfAttribute("..organisation")
    )
    trainer = factory.SubFactory(
        TrainerProfileFactory, organisation=factory.SelfAttribute("..organisation")
    )
    member = factory.SubFactory(MemberFactory, home_branch=factory.SelfAttribute("..branch"))
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=60))
    price = factory.SelfAttribute("service.price")


def appointment_starting_in(gym, branch, service, *, starts_in: timedelta, **fields):
    """An appointment of ``service`` starting ``starts_in`` from now (negative: past)."""
    starts_at = (timezone.now() + starts_in).replace(microsecond=0)
    return AppointmentFactory(
        organisation=gym, branch=branch, service=service, starts_at=starts_at, **fields
    )


class CalendarFeedFactory(DjangoModelFactory):
    class Meta:
        model = CalendarFeed

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
