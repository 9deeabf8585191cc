"""Plan rules read the same whatever the caller's branch scope."""

import pytest

from accounts.tenancy import tenant_scope
from memberships.selectors import plan_allows_branch
from memberships.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def test_plan_limited_to_another_branch_is_refused_under_a_one_branch_scope(
    gym, branch, other_branch
):
    # given: a plan that opens only the South branch
    plan = PlanFactory(organisation=gym)
    with tenant_scope(gym):
        plan.branches.set([other_branch])

    # when: the North branch's front desk (or door device) asks, scoped to North
    with tenant_scope(gym, branch_ids=[branch.pk]):
        allowed_north = plan_allows_branch(plan=plan, branch_id=branch.pk)
    with tenant_scope(gym, branch_ids=[other_branch.pk]):
        allowed_south = plan_allows_branch(plan=plan, branch_id=other_branch.pk)

    # then: North is refused (not mistaken for "every branch"), South is allowed
    assert allowed_north is False
    assert allowed_south is True
