"""Personal training is paid for: the service's price at booking goes on the member's
account once the slot is used up (the appointment ended, attended or not, or was
cancelled too late), billed to their payer with the next invoice; cancelling in time
or a staff waiver costs nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from billing.models import PendingCharge
from bookings import services
from bookings import tasks as booking_tasks
from bookings.appointments import selectors as appointment_selectors
from bookings.appointments.availability import available_slots
from bookings.models import Appointment
from bookings.tests.conftest import run_concurrently
from bookings.tests.factories import (
    AppointmentServiceFactory,
    TrainerAvailabilityFactory,
    appointment_starting_in,
)

pytestmark = pytest.mark.django_db

PRICE_SOURCE = services.APPOINTMENT_PRICE_SOURCE


@pytest.fixture
def pt(gym):
    """60-minute PT at 45.00; free cancellation until 24 hours before, else a 10.00 fee."""
    return AppointmentServiceFactory(
        organisation=gym,
        price=Decimal("45.00"),
        cancellation_cutoff_minutes=24 * 60,
        late_cancel_fee=Decimal("10.00"),
        no_show_fee=Decimal("0"),
    )


def _price_charges():
    return list(PendingCharge.objects.filter(source_type=PRICE_SOURCE).order_by("pk"))


def test_booking_keeps_the_price_of_the_day(in_gym, gym, branch, pt):
    # given a trainer free tomorrow morning
    trainer = TrainerProfileFactory(organisation=gym)
    tomorrow = timezone.localdate() + timedelta(days=1)
    TrainerAvailabilityFactory(
        organisation=gym, branch=branch, trainer=trainer, weekday=tomorrow.weekday()
    )
    slot = available_slots(service=pt, trainer=trainer, branch=branch, day=tomorrow)[0]
    member = MemberFactory(home_branch=branch)
    # when the member books, then the gym raises its price
    appointment = services.appointment_book(
        service=pt, trainer=trainer, member=member, branch=branch, starts_at=slot, actor=None
    )
    pt.price = Decimal("60.00")
    pt.save()
    # then the appointment keeps the price it was booked at, and nothing is charged yet
    appointment.refresh_from_db()
    assert appointment.price == Decimal("45.00")
    assert appointment.billed_at is None
    assert _price_charges() == []


@pytest.mark.parametrize("status", ["booked", "attended", "no_show"])
def test_after_the_appointment_its_price_goes_on_the_payers_account_once(
    in_gym, gym, branch, pt, status
):
    # given a dependant's appointment that ended ten minutes ago
    payer = MemberFactory(home_branch=branch)
    child = MemberFactory(home_branch=branch, payer=payer)
    appointment = appointment_starting_in(
        gym, branch, pt, starts_in=-timedelta(minutes=70), member=child, status=status
    )
    # when the settle job runs twice
    assert services.appointments_bill_finished() == 1
    assert services.appointments_bill_finished() == 0
    # then the price is on the account once, to be billed to the payer at that branch
    (charge,) = _price_charges()
    assert (charge.member, charge.payer, charge.branch) == (child, payer, branch)
    assert (charge.amount, charge.status, charge.source_id) == (
        Decimal("45.00"),
        PendingCharge.Status.PENDING,
        str(appointment.pk),
    )
    assert pt.name in charge.description
    appointment.refresh_from_db()
    assert appointment.billed_at is not None


def test_nothing_is_billed_before_the_end_or_for_a_free_service(in_gym, gym, branch, pt):
    # given one appointment still running and one free intro session that ended
    running = appointment_starting_in(gym, branch, pt, starts_in=-timedelta(minutes=30))
    intro = AppointmentServiceFactory(organisation=gym, price=Decimal("0"))
    free = appointment_starting_in(gym, branch, intro, starts_in=-timedelta(hours=2))
    # when the settle job runs
    assert services.appointments_bill_finished() == 0
    # then nothing is charged; the free one is settled, the running one is not yet
    assert _price_charges() == []
    running.refresh_from_db()
    free.refresh_from_db()
    assert running.billed_at is None and free.billed_at is not None


def test_cancelling_in_time_costs_nothing_ever(in_gym, gym, branch, pt):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(days=2))
    services.appointment_cancel(appointment=appointment, actor=None)
    # even once the slot's time has passed
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert services.appointments_bill_finished() == 0
    assert not PendingCharge.objects.exists()


def test_a_late_cancellation_bills_the_price_and_the_fee_at_once(in_gym, gym, branch, pt):
    # given an appointment in 3 hours (free cancellation ended 21 hours ago)
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=3))
    # when the member cancels
    appointment = services.appointment_cancel(appointment=appointment, actor=None)
    # then the slot's price and the late fee are both on the account
    assert appointment.status == "late_cancelled"
    amounts = dict(PendingCharge.objects.values_list("source_type", "amount"))
    assert amounts == {
        PRICE_SOURCE: Decimal("45.00"),
        "bookings.appointment.late_cancel": Decimal("10.00"),
    }
    # and the settle job, once the slot is over, does not bill it again
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert services.appointments_bill_finished() == 0
    assert len(_price_charges()) == 1


def test_a_waived_late_cancellation_costs_nothing(in_gym, gym, branch, pt, staff_user):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=3))
    services.appointment_cancel(appointment=appointment, actor=staff_user, waive_penalty=True)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert services.appointments_bill_finished() == 0
    assert not PendingCharge.objects.exists()


def test_waiving_after_the_end_takes_the_unbilled_price_back(in_gym, gym, branch, pt, staff_user):
    # given an appointment that ended and was billed by the settle job
    appointment = appointment_starting_in(gym, branch, pt, starts_in=-timedelta(minutes=70))
    services.appointments_bill_finished()
    # when staff cancel it after all, waiving the penalty (the trainer was ill)
    services.appointment_cancel(appointment=appointment, actor=staff_user, waive_penalty=True)
    # then the price is off the account
    (charge,) = _price_charges()
    assert charge.status == PendingCharge.Status.CANCELLED


def test_the_periodic_settle_task_bills_every_gym(gym, other_gym, branch, foreign_branch, pt):
    # given an ended appointment in each of two gyms
    other_pt = AppointmentServiceFactory(organisation=other_gym, price=Decimal("30.00"))
    with tenant_scope(gym):
        appointment_starting_in(gym, branch, pt, starts_in=-timedelta(hours=2))
    with tenant_scope(other_gym):
        appointment_starting_in(other_gym, foreign_branch, other_pt, starts_in=-timedelta(hours=2))
    # when the beat task runs
    assert booking_tasks.bookings_settle_finished() == 2
    # then each gym's member owes their own gym's price
    charges = PendingCharge.objects.unscoped().filter(source_type=PRICE_SOURCE)
    assert sorted((c.organisation_id, c.amount) for c in charges) == sorted(
        [(gym.pk, Decimal("45.00")), (other_gym.pk, Decimal("30.00"))]
    )


def test_the_booking_page_states_the_price(in_gym, gym, branch, pt):
    lines = appointment_selectors.appointment_rules_summary(service=pt, branch=branch)
    assert any("45.00" in line for line in lines)


@pytest.mark.django_db(transaction=True)
def test_two_settle_jobs_at_once_bill_each_appointment_once(gym, branch, pt):
    # given twenty ended appointments
    with tenant_scope(gym):
        for hours in range(2, 22):
            appointment_starting_in(gym, branch, pt, starts_in=-timedelta(hours=hours))
    # when four settle jobs run at the same moment
    results = run_concurrently(gym, [services.appointments_bill_finished] * 4, 4)
    # then the twenty prices are charged once in all
    assert sum(results) == 20
    with tenant_scope(gym):
        assert len(_price_charges()) == 20
