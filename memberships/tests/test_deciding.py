"""Which of a member's memberships decides on a date: the one rule, case by case."""

from datetime import date

import pytest

from accounts.tenancy import tenant_scope
from memberships.models import Membership
from memberships.selectors import STATUS_RANK, membership_deciding
from memberships.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 15)
S = Membership.Status


def _holding(member, *memberships):
    """``member``'s memberships, each given as (status, start, end)."""
    return [
        MembershipFactory(member=member, status=status, start_date=start, end_date=end)
        for status, start, end in memberships
    ]


def _deciding(member, on=ON):
    with tenant_scope(member.organisation):
        return membership_deciding(member=member, on=on)


def test_a_membership_covering_the_date_beats_a_better_status_that_does_not(member):
    covering, _later = _holding(
        member,
        (S.FROZEN, date(2026, 1, 1), None),
        (S.ACTIVE, date(2026, 7, 1), None),
    )
    assert _deciding(member) == covering


def test_among_covering_ones_the_most_usable_status_decides(member):
    rows = _holding(member, *[(status, date(2026, 1, 1), None) for status in STATUS_RANK[::-1]])
    assert _deciding(member).status == S.ACTIVE
    assert rows[-1].status == S.ACTIVE
    assert set(STATUS_RANK) == set(S.values)


def test_the_status_order_is_active_frozen_past_due_suspended_pending_expired_cancelled(
    member,
):
    for status in reversed(STATUS_RANK):
        _holding(member, (status, date(2026, 1, 1), None))
        assert _deciding(member).status == status


def test_same_status_and_cover_the_latest_start_then_the_latest_row(member):
    _older, newer_start = _holding(
        member,
        (S.ACTIVE, date(2026, 1, 1), None),
        (S.ACTIVE, date(2026, 3, 1), None),
    )
    assert _deciding(member) == newer_start
    same_start = _holding(member, (S.ACTIVE, date(2026, 3, 1), None))[0]
    assert _deciding(member) == same_start


def test_when_none_covers_the_date_the_best_status_still_decides(member):
    _ended, _cancelled = _holding(
        member,
        (S.ACTIVE, date(2025, 1, 1), date(2025, 12, 31)),
        (S.CANCELLED, date(2026, 1, 1), date(2026, 2, 1)),
    )
    assert _deciding(member) == _ended
    assert _deciding(member, on=date(2025, 6, 1)) == _ended


def test_no_membership_decides_nothing(member):
    assert _deciding(member) is None


def test_the_plan_comes_with_it_in_one_query(member, django_assert_num_queries):
    _holding(member, (S.ACTIVE, date(2026, 1, 1), None))
    with django_assert_num_queries(1):
        assert _deciding(member).plan.name
