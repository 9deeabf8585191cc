"""Late-cancel and no-show fees go on the member's next invoice (billing.member_charge_add)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import PendingCharge
from bookings import services
from bookings.models import BookingPolicy
from bookings.tests.factories import BookingPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee_policy(gym):
    return BookingPolicyFactory(
        organisation=gym,
        late_cancel_penalty=BookingPolicy.Penalty.FEE,
        late_cancel_fee=Decimal("5.00"),
        no_show_penalty=BookingPolicy.Penalty.FEE,
        no_show_fee=Decimal("8.00"),
    )


def test_late_cancel_fee_is_charged_once(in_gym, fee_policy, make_member, session_factory):
    # given a class in one hour (free cancellation ended an hour ago)
    member = make_member()
    session = session_factory(starts_at=timezone.now() + timedelta(hours=1))
    booking = services.booking_create(session=session, member=member, actor=None)
    # when the member cancels
    booking = services.booking_cancel(booking=booking, actor=None)
    # then a 5.00 charge waits for their next invoice
    assert booking.status == "late_cancelled" and booking.fee_charged == Decimal("5.00")
    charge = PendingCharge.objects.get(source_type="bookings.booking.late_cancel")
    assert (charge.member, charge.amount, charge.source_id) == (
        member,
        Decimal("5.00"),
        str(booking.pk),
    )


def test_early_cancel_costs_nothing(in_gym, fee_policy, make_member, session_factory):
    booking = services.booking_create(session=session_factory(), member=make_member(), actor=None)
    services.booking_cancel(booking=booking, actor=None)
    assert not PendingCharge.objects.exists()


def test_staff_waiver_means_no_fee(in_gym, fee_policy, make_member, session_factory, staff_user):
    session = session_factory(starts_at=timezone.now() + timedelta(hours=1))
    booking = services.booking_create(session=session, member=make_member(), actor=None)
    services.booking_cancel(booking=booking, actor=staff_user, waive_penalty=True)
    assert not PendingCharge.objects.exists()


def test_no_show_fee_from_the_job_and_waived_when_corrected(
    in_gym, fee_policy, make_member, session_factory
):
    # given a dependant booked in, whose payer is billed
    payer = make_member()
    child = make_member(payer=payer)
    session = session_factory(starts_at=timezone.now() + timedelta(minutes=20))
    booking = services.booking_create(session=session, member=child, actor=None)
    # when the class ends without a check-in
    services.bookings_settle_finished(now=session.ends_at + timedelta(minutes=1))
    # then an 8.00 no-show fee is charged, billed to the payer
    charge = PendingCharge.objects.get(source_type="bookings.booking.no_show")
    assert charge.amount == Decimal("8.00") and charge.payer == payer
    # and if the trainer corrects it to attended, the unbilled fee is taken off
    booking = services.booking_mark_attended(booking=booking, actor=None)
    charge.refresh_from_db()
    assert booking.status == "attended" and booking.fee_charged == 0
    assert charge.status == PendingCharge.Status.CANCELLED
