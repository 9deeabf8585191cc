"""Freezes: limits, and proration by moving the paid period back by the frozen days."""

from datetime import date, timedelta

import pytest

from gymsite.errors import ServiceError
from memberships.models import Membership, MembershipFreeze
from memberships.services import (
    membership_freeze,
    membership_unfreeze,
    memberships_apply_freezes,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db
TODAY = date(2030, 1, 10)


@pytest.fixture
def membership(in_gym, member, gym):
    plan = PlanFactory(
        organisation=gym, max_freeze_days_per_year=30, max_freezes_per_year=2, min_freeze_days=7
    )
    return MembershipFactory(
        member=member,
        plan=plan,
        start_date=date(2030, 1, 1),
        current_period_start=date(2030, 1, 1),
        current_period_end=date(2030, 1, 31),
    )


def test_freeze_starting_today_freezes_and_moves_the_period(membership, member):
    # when: frozen 10-19 Jan (10 days) mid-period
    freeze = membership_freeze(
        membership=membership,
        start_date=TODAY,
        end_date=date(2030, 1, 19),
        reason="Holiday",
        actor=member.user,
        today=TODAY,
    )
    # then: frozen, the paid period ends 10 days later, history says why
    membership.refresh_from_db()
    assert membership.status == Membership.Status.FROZEN
    assert freeze.status == MembershipFreeze.Status.ACTIVE
    assert membership.current_period_end == date(2030, 2, 10)
    change = membership.status_changes.last()
    assert (change.to_status, change.reason, change.actor) == ("frozen", "Holiday", member.user)


def test_scheduled_freeze_starts_and_ends_with_the_daily_job(membership):
    membership_freeze(
        membership=membership,
        start_date=date(2030, 1, 20),
        end_date=date(2030, 1, 26),
        today=TODAY,
    )
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.current_period_end == date(2030, 1, 31)  # nothing moves before it starts
    assert memberships_apply_freezes(today=date(2030, 1, 20)) == {"started": 1, "ended": 0}
    membership.refresh_from_db()
    assert membership.status == Membership.Status.FROZEN
    assert membership.current_period_end == date(2030, 2, 7)
    assert memberships_apply_freezes(today=date(2030, 1, 27)) == {"started": 0, "ended": 1}
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.current_period_end == date(2030, 2, 7)
    assert list(membership.status_changes.values_list("to_status", flat=True)) == [
        "frozen",
        "active",
    ]


def test_freeze_spanning_the_renewal_date_moves_the_charge(membership):
    # 25 Jan - 3 Feb crosses the 1 Feb renewal: 10 days, so the charge moves to 11 Feb
    membership_freeze(
        membership=membership,
        start_date=date(2030, 1, 25),
        end_date=date(2030, 2, 3),
        today=date(2030, 1, 25),
    )
    membership.refresh_from_db()
    assert membership.current_period_end == date(2030, 2, 10)


def test_unfreezing_early_gives_back_unused_days(membership):
    membership_freeze(
        membership=membership, start_date=TODAY, end_date=date(2030, 1, 23), today=TODAY
    )  # 14 days → period end 14 Feb
    membership_unfreeze(membership=membership, today=date(2030, 1, 15))  # frozen 10-14 only
    membership.refresh_from_db()
    freeze = membership.freezes.get()
    assert membership.status == Membership.Status.ACTIVE
    assert freeze.status == MembershipFreeze.Status.ENDED and freeze.days == 5
    assert membership.current_period_end == date(2030, 2, 5)


def test_unfreeze_cancels_a_scheduled_freeze(membership):
    membership_freeze(
        membership=membership, start_date=date(2030, 1, 20), end_date=date(2030, 1, 27), today=TODAY
    )
    membership_unfreeze(membership=membership, today=TODAY)
    assert membership.freezes.get().status == MembershipFreeze.Status.CANCELLED


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (date(2030, 1, 9), date(2030, 1, 20), "start_in_past"),
        (date(2030, 1, 20), date(2030, 1, 19), "end_before_start"),
        (date(2030, 1, 10), date(2030, 1, 12), "freeze_too_short"),
        (date(2030, 1, 10), date(2030, 2, 15), "freeze_too_long"),
    ],
)
def test_freeze_limits(membership, start, end, code):
    with pytest.raises(ServiceError) as error:
        membership_freeze(membership=membership, start_date=start, end_date=end, today=TODAY)
    assert error.value.code == code
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE
    assert membership.current_period_end == date(2030, 1, 31)
    assert not membership.freezes.exists()


def test_freeze_count_and_days_per_year(membership):
    membership_freeze(
        membership=membership, start_date=date(2030, 1, 20), end_date=date(2030, 1, 29), today=TODAY
    )
    with pytest.raises(ServiceError) as error:
        membership_freeze(
            membership=membership,
            start_date=date(2030, 1, 25),
            end_date=date(2030, 2, 2),
            today=TODAY,
        )
    assert error.value.code == "freeze_overlap"
    membership_freeze(
        membership=membership, start_date=date(2030, 3, 1), end_date=date(2030, 3, 10), today=TODAY
    )
    with pytest.raises(ServiceError) as error:
        membership_freeze(
            membership=membership,
            start_date=date(2030, 5, 1),
            end_date=date(2030, 5, 8),
            today=TODAY,
        )
    assert error.value.code == "freeze_limit"


def test_plan_without_freezes(in_gym, member, gym):
    membership = MembershipFactory(
        member=member, plan=PlanFactory(organisation=gym, max_freezes_per_year=0)
    )
    with pytest.raises(ServiceError) as error:
        membership_freeze(
            membership=membership,
            start_date=membership.start_date,
            end_date=membership.start_date + timedelta(days=10),
        )
    assert error.value.code == "freeze_not_allowed"


@pytest.mark.parametrize("status", ["pending", "frozen", "past_due", "suspended", "cancelled"])
def test_only_active_memberships_freeze(in_gym, member, status):
    membership = MembershipFactory(member=member, status=status)
    with pytest.raises(ServiceError) as error:
        membership_freeze(
            membership=membership,
            start_date=membership.start_date,
            end_date=membership.start_date + timedelta(days=10),
        )
    assert error.value.code == "not_active"


def test_unfreeze_of_unfrozen_is_refused(membership):
    with pytest.raises(ServiceError) as error:
        membership_unfreeze(membership=membership, today=TODAY)
    assert error.value.code == "not_frozen"
