"""The one-statement read behind a booking: same answers as the ORM selectors, same scope."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, TrainerProfileFactory
from bookings import selectors
from bookings.tests.factories import BookingPolicyFactory
from classes.tests.factories import ClassCategoryFactory, ClassSessionFactory
from memberships.models import Membership
from memberships.selectors import membership_deciding
from memberships.tests.factories import MembershipFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _session_on(day, *, branch, hour=7, **fields):
    """A session at ``hour`` local time on ``day`` at the branch."""
    starts = datetime.combine(day, time(hour), tzinfo=ZoneInfo(branch.timezone))
    return ClassSessionFactory(
        organisation=branch.organisation,
        branch=branch,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        **fields,
    )


@pytest.fixture
def member_with_history(gym, branch):
    """Memberships that compete to decide: an old expired one, a frozen one, an
    active one that starts later and a cancelled one."""
    today = timezone.localdate()
    member = MemberFactory(organisation=gym, home_branch=branch)
    plan = PlanFactory(organisation=gym)
    MembershipFactory(
        member=member,
        plan=plan,
        status=Membership.Status.EXPIRED,
        start_date=today - timedelta(days=120),
        end_date=today - timedelta(days=60),
    )
    MembershipFactory(
        member=member,
        plan=plan,
        status=Membership.Status.FROZEN,
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=5),
    )
    MembershipFactory(
        member=member,
        plan=plan,
        status=Membership.Status.ACTIVE,
        start_date=today + timedelta(days=3),
    )
    MembershipFactory(
        member=member,
        plan=plan,
        status=Membership.Status.CANCELLED,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=1),
    )
    return member


@pytest.mark.parametrize("days_ahead", [-90, -1, 0, 1, 2, 3, 4, 6, 30])
def test_context_chooses_the_membership_that_membership_deciding_chooses(
    in_gym, branch, member_with_history, days_ahead
):
    # given a class on a day where different memberships compete
    day = timezone.localdate() + timedelta(days=days_ahead)
    session = _session_on(day, branch=branch)
    # when
    context = selectors.booking_context(session_id=session.pk, member=member_with_history)
    # then the hand-written ranking agrees with the ORM selector
    expected = membership_deciding(member=member_with_history, on=day)
    assert context.membership.pk == expected.pk
    assert context.membership.plan.pk == expected.plan_id


def test_context_uses_the_local_date_of_the_class(in_gym, gym, branch):
    # given a Sydney branch, a membership from tomorrow (Sydney) and a class at 07:00
    # tomorrow in Sydney, which is still today in UTC
    branch.timezone = "Australia/Sydney"
    branch.save()
    tomorrow = datetime.now(ZoneInfo("Australia/Sydney")).date() + timedelta(days=1)
    member = MemberFactory(organisation=gym, home_branch=branch)
    membership = MembershipFactory(member=member, start_date=tomorrow)
    session = _session_on(tomorrow, branch=branch)
    # when
    context = selectors.booking_context(session_id=session.pk, member=member)
    # then the membership covers the class's local date
    assert context.membership.pk == membership.pk
    assert membership_deciding(member=member, on=tomorrow).pk == membership.pk


def test_context_loads_session_rules_plan_lists_and_a_fresh_booking_id(in_gym, gym, branch):
    # given a class type with its own rules, a trainer, and a plan limited to
    # one branch and one category
    category = ClassCategoryFactory(organisation=gym)
    plan = PlanFactory(organisation=gym)
    plan.branches.set([branch])
    plan.class_categories.set([category])
    member = MemberFactory(organisation=gym, home_branch=branch)
    MembershipFactory(member=member, plan=plan, start_date=timezone.localdate())
    trainer = TrainerProfileFactory(organisation=gym)
    session = _session_on(timezone.localdate() + timedelta(days=1), branch=branch, trainer=trainer)
    BookingPolicyFactory(organisation=gym, booking_opens_days=7)
    BookingPolicyFactory(organisation=gym, class_type=session.class_type, booking_opens_days=14)
    # when
    first = selectors.booking_context(session_id=session.pk, member=member)
    second = selectors.booking_context(session_id=session.pk, member=member)
    # then
    assert first.session.branch.timezone == branch.timezone
    assert first.session.class_type.pk == session.class_type_id
    assert first.session.trainer.display_name == trainer.display_name
    assert first.policy.booking_opens_days == 14
    assert first.plan_branch_ids == [branch.pk]
    assert first.plan_category_ids == [category.pk]
    assert second.booking_id > first.booking_id


def test_context_without_membership_or_policy(in_gym, gym, branch):
    member = MemberFactory(organisation=gym, home_branch=branch)
    session = _session_on(timezone.localdate() + timedelta(days=1), branch=branch)
    context = selectors.booking_context(session_id=session.pk, member=member)
    assert context.membership is None
    assert context.session.trainer is None
    assert context.policy.pk is None  # the defaults, never saved
    assert context.plan_branch_ids == [] and context.plan_category_ids == []


def test_context_is_tenant_scoped(gym, other_gym, branch, other_branch, foreign_branch):
    # given a class of another gym, and a class of one of our branches
    with tenant_scope(other_gym):
        foreign = _session_on(timezone.localdate(), branch=foreign_branch)
    with tenant_scope(gym):
        member = MemberFactory(organisation=gym, home_branch=branch)
        ours = _session_on(timezone.localdate(), branch=branch)
    # then another gym's class is not found, however its id was learnt
    with tenant_scope(gym):
        assert selectors.booking_context(session_id=foreign.pk, member=member) is None
        assert selectors.booking_context(session_id=ours.pk, member=member) is not None
    # and staff scoped to another branch do not reach it either
    with tenant_scope(gym, branch_ids=[other_branch.pk]):
        assert selectors.booking_context(session_id=ours.pk, member=member) is None


def test_context_ignores_memberships_of_another_gym(gym, other_gym, branch, foreign_branch):
    # given the same person's member record in gym B has an active membership, but
    # the member of gym A has none
    with tenant_scope(gym):
        member = MemberFactory(organisation=gym, home_branch=branch)
        session = _session_on(timezone.localdate(), branch=branch)
    with tenant_scope(other_gym):
        MembershipFactory(
            member=MemberFactory(organisation=other_gym, home_branch=foreign_branch),
            organisation=other_gym,
        )
        Membership.objects.update(member_id=member.pk)  # a row pointing across gyms
    # then it does not count in gym A
    with tenant_scope(gym):
        assert selectors.booking_context(session_id=session.pk, member=member).membership is None
