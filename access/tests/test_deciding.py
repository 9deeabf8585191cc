"""The check-in's in-Python choice of the deciding membership matches memberships'."""

import itertools
from datetime import date, timedelta

import pytest

from access.selectors import membership_deciding_fast
from access.tests.factories import membership_make, plan_make
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, UserFactory
from memberships.models import Membership
from memberships.selectors import membership_deciding

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
WINDOWS = [
    (date(2026, 1, 1), None),  # open-ended, covering
    (date(2025, 1, 1), date(2025, 12, 31)),  # ended
    (date(2026, 7, 1), date(2026, 12, 31)),  # starts later
    (date(2026, 6, 1), date(2026, 6, 30)),  # covering, bounded
]


def test_same_choice_as_membership_deciding(branch):
    plan = plan_make(branch.organisation)
    statuses = list(Membership.Status.values)
    combos = list(itertools.combinations(itertools.product(statuses, WINDOWS), 2))
    # a spread of pairs of (status, window), each on a fresh member, plus two triples
    cases = [
        *combos[::5],
        (("active", WINDOWS[0]), ("frozen", WINDOWS[3]), ("past_due", WINDOWS[0])),
        (("expired", WINDOWS[1]), ("cancelled", WINDOWS[1]), ("pending", WINDOWS[2])),
    ]
    with tenant_scope(branch.organisation):
        for case in cases:
            member = MemberFactory(home_branch=branch, user=UserFactory())
            for status, (start, end) in case:
                membership_make(member, plan=plan, status=status, start_date=start, end_date=end)
            for on in (TODAY, TODAY + timedelta(days=30), TODAY - timedelta(days=400)):
                expected = membership_deciding(member=member, on=on)
                assert membership_deciding_fast(member_id=member.pk, on=on) == expected, (
                    case,
                    on,
                )
    assert len(cases) > 70


def test_no_membership_is_none(member):
    with tenant_scope(member.organisation):
        assert membership_deciding_fast(member_id=member.pk, on=TODAY) is None
