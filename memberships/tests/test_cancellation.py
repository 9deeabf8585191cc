"""Cancellation honours the notice period and minimum term, and the preview shown
before confirming is exactly what happens."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Invoice
from gymsite.errors import ServiceError
from memberships.models import Membership
from memberships.services import (
    membership_cancel,
    membership_cancel_withdraw,
    membership_cancellation_preview,
    membership_purchase,
    memberships_expire_due,
    renewals_due,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
TODAY = date(2030, 3, 10)


def _membership(member, gym, **plan):
    return MembershipFactory(
        member=member,
        plan=PlanFactory(organisation=gym, **plan),
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 3, 1),
        current_period_end=date(2030, 3, 31),
    )


def test_no_notice_ends_at_period_end(in_gym, member, gym):
    membership = _membership(member, gym)
    preview = membership_cancellation_preview(membership=membership, today=TODAY)
    assert preview.last_day == date(2030, 3, 31)
    assert preview.remaining_payments == 0
    assert not preview.immediate


def test_notice_period_runs_into_the_next_period(in_gym, member, gym):
    # 30 days' notice from 10 Mar ends 9 Apr: the April period is billed, last day 30 Apr
    membership = _membership(member, gym, notice_period_days=30)
    preview = membership_cancellation_preview(membership=membership, today=TODAY)
    assert preview.notice_ends == date(2030, 4, 9)
    assert preview.last_day == date(2030, 4, 30)
    assert preview.remaining_payments == 1
    assert preview.remaining_amount == Decimal("40.00")
    assert any("notice" in line for line in preview.explanation)


def test_minimum_term_is_honoured(in_gym, member, gym):
    # joined 1 Jan on a 12-month minimum term: runs to 31 Dec 2030, 9 more payments
    membership = _membership(member, gym, minimum_term_months=12)
    preview = membership_cancellation_preview(membership=membership, today=TODAY)
    assert preview.minimum_term_ends == date(2030, 12, 31)
    assert preview.last_day == date(2030, 12, 31)
    assert preview.remaining_payments == 9


def test_cancel_does_what_the_preview_said(in_gym, member, gym):
    # given
    membership = _membership(member, gym, notice_period_days=30)
    preview = membership_cancellation_preview(membership=membership, today=TODAY)
    # when
    membership_cancel(membership=membership, reason="Moving away", actor=member.user, today=TODAY)
    # then: still active, ends on the previewed day, renews until then only
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.cancels_on == preview.last_day == date(2030, 4, 30)
    assert membership.cancellation_reason == "Moving away"
    assert membership.cancel_requested_by == member.user
    assert renewals_due(today=date(2030, 4, 1)).filter(pk=membership.pk).exists()
    membership.current_period_end = date(2030, 4, 30)
    membership.save()
    assert not renewals_due(today=date(2030, 5, 1)).filter(pk=membership.pk).exists()
    # and the daily job ends it the day after its last day, recording who and why
    assert memberships_expire_due(today=date(2030, 4, 30))["cancelled"] == 0
    assert memberships_expire_due(today=date(2030, 5, 1))["cancelled"] == 1
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    change = membership.status_changes.last()
    assert (change.actor, change.reason) == (member.user, "Moving away")


def test_reason_is_required(in_gym, member, gym):
    membership = _membership(member, gym)
    with pytest.raises(ServiceError) as error:
        membership_cancel(membership=membership, reason="  ", today=TODAY)
    assert error.value.field == "reason"
    membership.refresh_from_db()
    assert membership.cancels_on is None


def test_member_cannot_cancel_immediately_but_staff_can(in_gym, member, gym, manager):
    membership = _membership(member, gym, minimum_term_months=12)
    with pytest.raises(ServiceError) as error:
        membership_cancel(membership=membership, reason="x", immediately=True, today=TODAY)
    assert error.value.code == "not_allowed"
    membership_cancel(
        membership=membership,
        reason="Medical",
        immediately=True,
        staff=True,
        actor=manager,
        today=TODAY,
    )
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert membership.end_date == TODAY


def test_pending_membership_cancels_at_once_and_voids_invoice(in_gym, member, gym):
    membership = membership_purchase(member=member, plan=PlanFactory(organisation=gym))
    membership_cancel(membership=membership, reason="Changed my mind")
    membership.refresh_from_db()
    assert membership.status == Membership.Status.CANCELLED
    assert Invoice.objects.get().status == Invoice.Status.VOID


def test_withdraw_a_scheduled_cancellation(in_gym, member, gym):
    membership = _membership(member, gym)
    membership_cancel(membership=membership, reason="Too busy", today=TODAY)
    with pytest.raises(ServiceError) as error:
        membership_cancel(membership=membership, reason="again", today=TODAY)
    assert error.value.code == "already_cancelling"
    membership_cancel_withdraw(membership=membership)
    membership.refresh_from_db()
    assert membership.cancels_on is None


def test_cancelled_membership_cannot_be_cancelled_again(in_gym, member, gym):
    membership = MembershipFactory(member=member, status=Membership.Status.CANCELLED)
    with pytest.raises(ServiceError) as error:
        membership_cancel(membership=membership, reason="x")
    assert error.value.code == "already_ended"


def test_fixed_term_expires_after_end_date(in_gym, member, gym):
    plan = PlanFactory(organisation=gym, fixed_term=True)
    membership = MembershipFactory(
        member=member, plan=plan, start_date=date(2030, 1, 1), end_date=date(2030, 3, 31)
    )
    assert memberships_expire_due(today=date(2030, 3, 31))["expired"] == 0
    assert memberships_expire_due(today=date(2030, 4, 1))["expired"] == 1
    membership.refresh_from_db()
    assert membership.status == Membership.Status.EXPIRED
