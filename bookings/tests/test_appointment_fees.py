"""Personal training: late-cancellation and no-show fees (through billing, as for
classes), the service's rules falling back to the gym's, and reminders from the same
periodic job as classes."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import AuditLog
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from billing.models import PendingCharge
from bookings import services
from bookings import tasks as booking_tasks
from bookings.models import Appointment, BookingPolicy
from bookings.tests.factories import (
    AppointmentServiceFactory,
    BookingPolicyFactory,
    appointment_starting_in,
)
from gymsite.errors import Conflict, ServiceError
from gymsite.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pt(gym):
    """60-minute PT: free cancellation until 24 hours before, else 20.00; no-show 30.00."""
    return AppointmentServiceFactory(
        organisation=gym,
        cancellation_cutoff_minutes=24 * 60,
        late_cancel_fee=Decimal("20.00"),
        no_show_fee=Decimal("30.00"),
    )


def test_cancel_before_the_cutoff_is_free(in_gym, gym, branch, pt):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(days=2))
    appointment = services.appointment_cancel(appointment=appointment, actor=None)
    assert appointment.status == "cancelled" and appointment.fee_charged == 0
    assert not PendingCharge.objects.exists()


def test_late_cancel_fee_goes_on_the_payers_next_invoice_once(in_gym, gym, branch, pt):
    # given a dependant's appointment in 3 hours (the free cancellation ended 21 hours ago)
    payer = MemberFactory(home_branch=branch)
    child = MemberFactory(home_branch=branch, payer=payer)
    appointment = appointment_starting_in(
        gym, branch, pt, starts_in=timedelta(hours=3), member=child
    )
    # when it is cancelled
    appointment = services.appointment_cancel(appointment=appointment, actor=None)
    # then it is late-cancelled and 20.00 waits for the payer's next invoice
    assert appointment.status == "late_cancelled"
    assert appointment.fee_charged == Decimal("20.00")
    # (beside the slot's price: test_appointment_prices.py)
    charge = PendingCharge.objects.get(source_type="bookings.appointment.late_cancel")
    assert charge.source_id == str(appointment.pk)
    assert (charge.member, charge.payer, charge.amount) == (child, payer, Decimal("20.00"))
    # and it cannot be cancelled (or charged) twice
    with pytest.raises(Conflict):
        services.appointment_cancel(appointment=appointment, actor=None)
    assert PendingCharge.objects.count() == 2


def test_staff_cancel_without_penalty_is_audited(in_gym, gym, branch, pt, staff_user):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=3))
    appointment = services.appointment_cancel(
        appointment=appointment, actor=staff_user, waive_penalty=True
    )
    assert appointment.status == "late_cancelled" and appointment.fee_charged == 0
    assert not PendingCharge.objects.exists()
    assert AuditLog.objects.filter(
        action="appointment.cancel_waived", target_id=str(appointment.pk)
    ).exists()


def test_member_cannot_cancel_once_started(in_gym, gym, branch, pt):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=3))
    with pytest.raises(ServiceError) as exc:
        services.appointment_cancel(
            appointment=appointment, actor=None, now=appointment.starts_at + timedelta(minutes=1)
        )
    assert exc.value.code == "already_started"


def test_service_without_own_rules_follows_the_gyms(in_gym, gym, branch):
    # given a gym whose default rules charge 7.50 for late cancellation and 9.00 for
    # no-shows with a 2-hour cut-off, and a service that sets none of its own
    BookingPolicyFactory(
        organisation=gym,
        cancellation_cutoff_minutes=120,
        late_cancel_penalty=BookingPolicy.Penalty.FEE,
        late_cancel_fee=Decimal("7.50"),
        no_show_penalty=BookingPolicy.Penalty.FEE,
        no_show_fee=Decimal("9.00"),
    )
    service = AppointmentServiceFactory(
        organisation=gym, cancellation_cutoff_minutes=None, late_cancel_fee=None, no_show_fee=None
    )
    # then 3 hours before is still free, 1 hour before costs the gym's fee
    early = appointment_starting_in(gym, branch, service, starts_in=timedelta(hours=3))
    assert services.appointment_cancel(appointment=early, actor=None).status == "cancelled"
    late = appointment_starting_in(gym, branch, service, starts_in=timedelta(hours=1))
    late = services.appointment_cancel(appointment=late, actor=None)
    assert (late.status, late.fee_charged) == ("late_cancelled", Decimal("7.50"))
    # and a no-show costs the gym's no-show fee
    missed = appointment_starting_in(gym, branch, service, starts_in=timedelta(hours=5))
    missed = services.appointment_mark(
        appointment=missed, attended=False, actor=None, now=missed.ends_at
    )
    assert (missed.status, missed.fee_charged) == ("no_show", Decimal("9.00"))


def test_gym_rules_that_only_forfeit_credits_charge_nothing(in_gym, gym, branch):
    BookingPolicyFactory(
        organisation=gym,
        late_cancel_penalty=BookingPolicy.Penalty.FORFEIT,
        late_cancel_fee=Decimal("7.50"),
    )
    service = AppointmentServiceFactory(organisation=gym, late_cancel_fee=None)
    appointment = appointment_starting_in(gym, branch, service, starts_in=timedelta(hours=1))
    appointment = services.appointment_cancel(appointment=appointment, actor=None)
    assert appointment.status == "late_cancelled" and appointment.fee_charged == 0
    # no fee: only the slot's own price is due
    charges = PendingCharge.objects.values_list("source_type", flat=True)
    assert list(charges) == [services.APPOINTMENT_PRICE_SOURCE]


def test_no_show_fee_and_correction_to_attended(in_gym, gym, branch, pt):
    appointment = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=2))
    # not before it starts
    with pytest.raises(ServiceError) as exc:
        services.appointment_mark(appointment=appointment, attended=False, actor=None)
    assert exc.value.code == "too_early"
    # the trainer marks a no-show after the hour: 30.00 on the next invoice
    after = appointment.ends_at
    appointment = services.appointment_mark(
        appointment=appointment, attended=False, actor=None, now=after
    )
    charge = PendingCharge.objects.get(source_type="bookings.appointment.no_show")
    assert (appointment.status, appointment.fee_charged, charge.amount) == (
        "no_show",
        Decimal("30.00"),
        Decimal("30.00"),
    )
    # corrected to attended: the unbilled fee is cancelled
    appointment = services.appointment_mark(
        appointment=appointment, attended=True, actor=None, now=after
    )
    charge.refresh_from_db()
    assert appointment.status == "attended" and appointment.fee_charged == 0
    assert charge.status == PendingCharge.Status.CANCELLED
    # attended cannot become a no-show
    with pytest.raises(Conflict):
        services.appointment_mark(appointment=appointment, attended=False, actor=None, now=after)


def test_appointment_reminders_from_the_class_reminder_job(gym, branch, pt):
    # given the gym reminds 24 hours before; PT in 5 hours, another in 3 days, and one
    # whose service reminds 96 hours before
    with tenant_scope(gym):
        BookingPolicyFactory(organisation=gym, reminder_hours=24)
        soon = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=5))
        appointment_starting_in(gym, branch, pt, starts_in=timedelta(days=3))
        early_reminder = AppointmentServiceFactory(organisation=gym, reminder_hours=96)
        far = appointment_starting_in(
            gym, branch, early_reminder, starts_in=timedelta(days=3, hours=1)
        )
        cancelled = appointment_starting_in(gym, branch, pt, starts_in=timedelta(hours=4))
        Appointment.objects.filter(pk=cancelled.pk).update(status="cancelled")
    # when the periodic reminder job runs twice
    assert booking_tasks.bookings_send_reminders() == 2
    assert booking_tasks.bookings_send_reminders() == 0
    # then one reminder each for the appointment within 24 hours and the 96-hour service
    reminders = OutboxMessage.objects.filter(dedupe_key__contains="-reminder-")
    assert sorted(m.dedupe_key for m in reminders) == sorted(
        [
            f"appointment-{soon.pk}-reminder-{int(soon.starts_at.timestamp())}",
            f"appointment-{far.pk}-reminder-{int(far.starts_at.timestamp())}",
        ]
    )
    mail = reminders.get(dedupe_key__startswith=f"appointment-{soon.pk}-")
    assert mail.payload["to"] == [soon.member.email]
    assert pt.name in mail.payload["subject"] and soon.trainer.display_name in mail.payload["body"]
