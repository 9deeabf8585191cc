"""The plan rules (one check, one set of codes), the other-memberships fallback and the
household rule, each written once in memberships / accounts."""

from datetime import date, time

import pytest

from accounts.models import Member
from accounts.selectors import household_members, member_may_act_for
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from classes.tests.factories import ClassCategoryFactory
from memberships.models import Membership, Plan
from memberships.selectors import (
    Refusal,
    Use,
    member_memberships,
    membership_candidates,
    membership_refusal,
    memberships_for_household,
    memberships_ranked,
)
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db

ON = date(2026, 6, 15)
S = Membership.Status


def _loaded(member):
    """The member's memberships as the hot paths load them (one query), ranked."""
    with tenant_scope(member.organisation):
        return memberships_ranked(member_memberships(member_id=member.pk), on=ON)


def _refusal(membership, **use):
    with tenant_scope(membership.organisation):
        return membership_refusal(membership, use=Use(on=ON, **use))


def test_each_rule_refuses_with_its_code_in_order(gym, branch, other_branch, member):
    category = ClassCategoryFactory(organisation=gym)
    plan = PlanFactory(
        organisation=gym,
        kind=Plan.Kind.CLASS_PACK,
        access_from=time(10),
        access_until=time(16),
        valid_until=date(2026, 12, 31),
    )
    with tenant_scope(gym):
        plan.branches.set([branch])
        plan.class_categories.set([category])
    membership = MembershipFactory(
        member=member, plan=plan, start_date=date(2026, 1, 1), credits_remaining=0
    )
    [loaded] = _loaded(member)
    class_here = {"branch_id": branch.pk, "for_class": True, "category_id": category.pk}
    # then, rule by rule
    assert _refusal(loaded, branch_id=other_branch.pk) == Refusal.BRANCH
    assert _refusal(loaded, **{**class_here, "category_id": None}) == Refusal.CATEGORY
    assert _refusal(loaded, **class_here, local_time=time(9)) == Refusal.TIME
    assert _refusal(loaded, **class_here, local_time=time(11), needs_credit=True) == (
        Refusal.NO_CREDITS
    )
    assert _refusal(loaded, **class_here, local_time=time(11)) is None
    # the door asks without a category, credits or hours
    assert _refusal(loaded, branch_id=branch.pk) is None
    Membership.objects.unscoped().filter(pk=membership.pk).update(status=S.FROZEN)
    assert _refusal(_loaded(member)[0], branch_id=branch.pk) == Refusal.FROZEN
    assert Refusal.FROZEN.value == "membership_frozen"  # the booking API's code


def test_a_ticket_outside_its_plan_dates_is_refused(gym, branch, member):
    plan = PlanFactory(
        organisation=gym,
        kind=Plan.Kind.ENTRY_TICKET,
        valid_from=date(2026, 7, 1),
        valid_until=date(2026, 7, 31),
    )
    MembershipFactory(member=member, plan=plan, start_date=date(2026, 1, 1), entries_remaining=0)
    [ticket] = _loaded(member)
    assert _refusal(ticket, branch_id=branch.pk) == Refusal.TICKET_NOT_YET_VALID


def test_no_membership_is_its_own_refusal(branch):
    assert membership_refusal(None, use=Use(branch_id=branch.pk, on=ON)) == (Refusal.NO_MEMBERSHIP)


def test_candidates_are_the_deciding_one_then_the_other_usable_ones(gym, member):
    # given: a home membership, a newer day pass (deciding), a frozen and an ended one
    home = MembershipFactory(member=member, start_date=date(2025, 1, 1))
    day_pass = MembershipFactory(member=member, start_date=ON, end_date=ON)
    MembershipFactory(member=member, status=S.FROZEN, start_date=date(2026, 1, 1))
    MembershipFactory(member=member, start_date=date(2024, 1, 1), end_date=date(2024, 12, 31))
    # when
    candidates = list(membership_candidates(_loaded(member), on=ON))
    # then: the frozen and the ended ones are never tried
    assert [m.pk for m in candidates] == [day_pass.pk, home.pk]


def test_a_frozen_deciding_membership_is_tried_alone(gym, member):
    frozen = MembershipFactory(member=member, status=S.FROZEN, start_date=date(2026, 1, 1))
    MembershipFactory(member=member, status=S.CANCELLED, start_date=date(2026, 2, 1))
    assert [m.pk for m in membership_candidates(_loaded(member), on=ON)] == [frozen.pk]


def test_the_household_is_the_payer_and_their_active_dependants(gym, branch, member):
    kid = MemberFactory(
        home_branch=branch, payer=member, user=None, first_name="Kid", last_name="Member", email=""
    )
    gone = MemberFactory(
        home_branch=branch, payer=member, user=None, first_name="Gone", last_name="Member", email=""
    )
    Member.objects.unscoped().filter(pk=gone.pk).update(status=Member.Status.ARCHIVED)
    gone.refresh_from_db()
    stranger = MemberFactory(home_branch=branch)
    MembershipFactory(member=kid)
    MembershipFactory(member=gone)
    with tenant_scope(gym):
        # every place asks the same rule
        assert set(household_members(member=member)) == {member, kid}
        assert {m.member_id for m in memberships_for_household(member=member)} == {kid.pk}
        assert member_may_act_for(actor=member, member=kid)
        assert member_may_act_for(actor=member, member=member)
        assert not member_may_act_for(actor=member, member=gone)
        assert not member_may_act_for(actor=member, member=stranger)
        assert not member_may_act_for(actor=None, member=member)
