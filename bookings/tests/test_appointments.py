"""Personal training: availability, no double-booking of trainers or members."""

from datetime import time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from bookings import services
from bookings.appointments.availability import available_slots
from bookings.models import Appointment
from bookings.tests.factories import (
    AppointmentFactory,
    AppointmentServiceFactory,
    TrainerAvailabilityFactory,
)
from classes.services import local_datetime
from gymsite.errors import Conflict, ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(gym, branch):
    trainer = TrainerProfileFactory(organisation=gym)
    day = timezone.localdate() + timedelta(days=3)
    TrainerAvailabilityFactory(
        organisation=gym, branch=branch, trainer=trainer, weekday=day.weekday()
    )
    return trainer, day, AppointmentServiceFactory(organisation=gym)


def test_member_cannot_hold_two_overlapping_appointments(in_gym, gym, branch, setup):
    trainer, day, service = setup
    other_trainer = TrainerProfileFactory(organisation=gym)
    TrainerAvailabilityFactory(
        organisation=gym, branch=branch, trainer=other_trainer, weekday=day.weekday()
    )
    member = MemberFactory(home_branch=branch)
    ten = local_datetime(day, time(10, 0), branch.timezone)
    services.appointment_book(
        service=service, trainer=trainer, member=member, branch=branch, starts_at=ten, actor=None
    )
    with pytest.raises(Conflict) as exc:
        services.appointment_book(
            service=service,
            trainer=other_trainer,
            member=member,
            branch=branch,
            starts_at=ten + timedelta(minutes=30),
            actor=None,
        )
    assert exc.value.code == "member_overlap"


def test_back_to_back_is_fine_and_cancelled_frees_the_slot(in_gym, branch, setup):
    trainer, day, service = setup
    ten = local_datetime(day, time(10, 0), branch.timezone)
    first = services.appointment_book(
        service=service,
        trainer=trainer,
        member=MemberFactory(home_branch=branch),
        branch=branch,
        starts_at=ten,
        actor=None,
    )
    services.appointment_book(
        service=service,
        trainer=trainer,
        member=MemberFactory(home_branch=branch),
        branch=branch,
        starts_at=ten + timedelta(hours=1),
        actor=None,
    )
    services.appointment_cancel(appointment=first, actor=None)
    again = services.appointment_book(
        service=service,
        trainer=trainer,
        member=MemberFactory(home_branch=branch),
        branch=branch,
        starts_at=ten,
        actor=None,
    )
    assert again.status == "booked"


def test_trainer_teaching_a_class_is_busy(in_gym, branch, setup, session_factory):
    trainer, day, service = setup
    ten = local_datetime(day, time(10, 0), branch.timezone)
    session_factory(trainer=trainer, starts_at=ten, ends_at=ten + timedelta(minutes=45))
    assert ten not in available_slots(service=service, trainer=trainer, branch=branch, day=day)
    with pytest.raises(Conflict):
        services.appointment_book(
            service=service,
            trainer=trainer,
            member=MemberFactory(home_branch=branch),
            branch=branch,
            starts_at=ten,
            actor=None,
        )


def test_outside_availability_or_in_the_past(in_gym, branch, setup):
    trainer, day, service = setup
    member = MemberFactory(home_branch=branch)
    with pytest.raises(ServiceError) as exc:
        services.appointment_book(
            service=service,
            trainer=trainer,
            member=member,
            branch=branch,
            starts_at=local_datetime(day, time(16, 30), branch.timezone),
            actor=None,
        )
    assert exc.value.code == "trainer_unavailable"
    with pytest.raises(ServiceError) as exc:
        services.appointment_book(
            service=service,
            trainer=trainer,
            member=member,
            branch=branch,
            starts_at=timezone.now() - timedelta(hours=1),
            actor=None,
        )
    assert exc.value.code == "in_the_past"


def test_database_exclusion_constraints_refuse_overlaps(in_gym, gym, branch):
    # given an appointment written straight to the table (no service, no lock)
    existing = AppointmentFactory(organisation=gym, branch=branch)
    # then the database itself refuses an overlapping one for the same trainer ...
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(
            organisation=gym,
            branch=branch,
            trainer=existing.trainer,
            starts_at=existing.starts_at + timedelta(minutes=59),
        )
    # ... and for the same member
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(
            organisation=gym,
            branch=branch,
            member=existing.member,
            starts_at=existing.starts_at - timedelta(minutes=30),
        )
    # a cancelled one does not block
    Appointment.objects.filter(pk=existing.pk).update(status="cancelled")
    AppointmentFactory(
        organisation=gym, branch=branch, trainer=existing.trainer, starts_at=existing.starts_at
    )


def test_late_cancel_of_appointment(in_gym, gym, branch):
    soon = AppointmentFactory(
        organisation=gym, branch=branch, starts_at=timezone.now() + timedelta(hours=2)
    )
    assert services.appointment_cancel(appointment=soon, actor=None).status == "late_cancelled"


def test_overlapping_availability_windows_offer_each_time_once(in_gym, gym, branch, setup):
    trainer, day, service = setup
    TrainerAvailabilityFactory(
        organisation=gym,
        branch=branch,
        trainer=trainer,
        weekday=day.weekday(),
        start_time=time(9, 0),
        end_time=time(12, 0),
    )
    slots = available_slots(service=service, trainer=trainer, branch=branch, day=day)
    assert slots and len(slots) == len(set(slots))
