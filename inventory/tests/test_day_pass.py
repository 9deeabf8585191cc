"""A day pass sold at the till opens the door that day, at that branch, once."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from access import services as access
from access.models import Reason, Result
from access.tests.factories import AccessPolicyFactory
from accounts.models import Member
from accounts.tenancy import tenant_scope
from gymsite.errors import ServiceError
from inventory import services
from inventory.models import DayPassPlan, Order, Product
from inventory.tests.factories import ProductFactory
from memberships.models import Membership, Plan
from memberships.tests.factories import MembershipFactory, PlanFactory


@pytest.fixture(autouse=True)
def _fresh_access_cache():
    from access import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def day_pass(gym):
    return ProductFactory(
        category__organisation=gym, name="Day pass", kind=Product.Kind.DAY_PASS, price="10.00"
    )


def _sell(branch, front_desk, day_pass, **kwargs):
    with tenant_scope(branch.organisation, branch_ids=[branch.pk]):
        return services.pos_sale_create(
            branch=branch, items=[(day_pass, 1)], actor=front_desk, **kwargs
        )


def _rest_of_local_day(branch, now):
    local = now.astimezone(ZoneInfo(branch.timezone))
    midnight = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)
    return midnight - local


def _desk_checkin(member, branch, staff, at):
    with tenant_scope(branch.organisation):
        return access.checkin_member(member=member, branch=branch, staff=staff, at=at).log


def test_member_with_a_day_pass_gets_in_once_that_day_at_that_branch_only(
    gym, branch, other_branch, member, front_desk, day_pass
):
    # given a member with no membership, who buys a day pass at the North desk
    now = timezone.now()
    with tenant_scope(gym):
        assert _desk_checkin(member, branch, front_desk, now).reason == Reason.NO_MEMBERSHIP
    _sell(branch, front_desk, day_pass, member=member)

    # when they come through the door today
    first = _desk_checkin(member, branch, front_desk, now + timedelta(seconds=5))

    # then they are let in and the pass's one entry is used
    assert (first.result, first.reason) == (Result.GRANTED, Reason.OK)
    assert first.entry_consumed
    with tenant_scope(gym):
        ticket = Membership.objects.get(member=member)
        assert (ticket.status, ticket.entries_remaining) == (Membership.Status.ACTIVE, 0)
        assert ticket.start_date == ticket.end_date == timezone.localdate(now)
        assert ticket.plan.kind == Plan.Kind.ENTRY_TICKET
        assert ticket.plan.status == Plan.Status.RETIRED  # never offered in the plan shop
    # and the pass does not open another branch, nor the door tomorrow
    elsewhere = _desk_checkin(member, other_branch, front_desk, now + timedelta(minutes=1))
    assert (elsewhere.result, elsewhere.reason) == (Result.DENIED, Reason.BRANCH_NOT_INCLUDED)
    tomorrow = _desk_checkin(member, branch, front_desk, now + timedelta(days=1))
    assert tomorrow.result == Result.DENIED


def test_walk_in_becomes_a_member_whose_card_opens_the_door(gym, branch, front_desk, day_pass):
    # given a walk-in buying a day pass, paid at the desk
    order = _sell(
        branch,
        front_desk,
        day_pass,
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
    )

    # then the order is theirs as a new member record, with a ticket for today
    with tenant_scope(gym):
        holder = Member.objects.get(pk=order.member_id)
        assert (holder.first_name, holder.last_name, holder.email) == (
            "Ada",
            "Lovelace",
            "ada@example.com",
        )
        assert order.status == Order.Status.COLLECTED and order.invoice_id is not None
        # when the desk hands them a card and they present it at the door
        card = access.credential_card_register(member=holder, number="WALKIN-01", actor=front_desk)
        outcome = access.checkin_attempt(branch=branch, presented=card.number)
    # then the door opens
    assert (outcome.log.result, outcome.log.member_id) == (Result.GRANTED, holder.pk)


def test_walk_in_day_pass_needs_a_name_and_changes_nothing(gym, branch, front_desk, day_pass):
    with tenant_scope(gym):
        members_before = Member.objects.count()
    with pytest.raises(ServiceError) as refused:
        _sell(branch, front_desk, day_pass, customer_name="  ")
    assert refused.value.field == "customer_name"
    with tenant_scope(gym):
        assert Member.objects.count() == members_before
        assert not Order.objects.exists()


def test_one_ticket_plan_per_pass_and_branch_reused_by_later_sales(
    gym, branch, member, front_desk, day_pass
):
    _sell(branch, front_desk, day_pass, member=member)
    _sell(branch, front_desk, day_pass, member=member)
    with tenant_scope(gym):
        assert DayPassPlan.objects.filter(product=day_pass, branch=branch).count() == 1
        plans = set(Membership.objects.filter(member=member).values_list("plan_id", flat=True))
        assert plans == {DayPassPlan.objects.get().plan_id}


def test_a_returned_day_pass_no_longer_opens_the_door(gym, branch, member, front_desk, day_pass):
    # given a member's day pass, sold and then handed back unused
    order = _sell(branch, front_desk, day_pass, member=member)
    with tenant_scope(gym, branch_ids=[branch.pk]):
        line = order.lines.get()
        services.order_line_return(line=line, quantity=1, actor=front_desk, reason="Changed mind")

    # when they try the door
    log = _desk_checkin(member, branch, front_desk, timezone.now())

    # then it stays shut, and the ticket is cancelled with its entry taken back
    assert log.result == Result.DENIED
    with tenant_scope(gym):
        ticket = Membership.objects.get(pk=line.ticket_id)
        assert (ticket.status, ticket.entries_remaining) == (Membership.Status.CANCELLED, 0)


def test_day_pass_bought_in_the_shop_opens_the_door_once_paid(
    gym, branch, member, front_desk, day_pass, in_gym
):
    # given a day pass ordered in the member shop: held, not yet paid
    order = services.shop_order_place(member=member, branch=branch, items=[(day_pass, 1)])
    assert _desk_checkin(member, branch, front_desk, timezone.now()).result == Result.DENIED

    # when it is paid
    services.order_pay_at_desk(order=order, actor=front_desk)

    # then the door opens that day
    log = _desk_checkin(member, branch, front_desk, timezone.now() + timedelta(minutes=30))
    assert (log.result, log.entry_consumed) == (Result.GRANTED, True)


def test_day_pass_for_another_branch_never_locks_a_member_out_of_home(
    gym, branch, other_branch, member, front_desk, day_pass
):
    # given a member whose membership covers only South, who buys a day pass for North
    with tenant_scope(gym):
        home_plan = PlanFactory(organisation=gym)
        home_plan.branches.set([other_branch])
        MembershipFactory(
            member=member,
            plan=home_plan,
            organisation=gym,
            start_date=timezone.localdate() - timedelta(days=20),
        )
    _sell(branch, front_desk, day_pass, member=member)
    now = timezone.now()
    # The pass is for the rest of North's day, so the visits share what is left of it
    # (a fixed "six hours later" crossed midnight when the suite ran in the evening),
    # with a re-entry window short enough that the evening visit is a new one.
    step = _rest_of_local_day(branch, now) / 8
    AccessPolicyFactory(branch=branch, reentry_minutes=0)
    with tenant_scope(gym):
        card = access.credential_card_register(member=member, number="HOME-01", actor=front_desk)
        # when they use the pass at North's door, then go home to South the same day
        north = access.checkin_attempt(branch=branch, presented=card.number, at=now).log
        south = access.checkin_attempt(
            branch=other_branch, presented=card.number, at=now + 2 * step
        ).log
        # and come back to North in the evening, the pass used up
        north_again = access.checkin_attempt(
            branch=branch, presented=card.number, at=now + 6 * step
        ).log

    # then North let them in on the pass, South on their membership, and North again
    # says the pass is used (their membership does not include North)
    assert (north.result, north.entry_consumed) == (Result.GRANTED, True)
    assert south.result == Result.GRANTED and not south.entry_consumed
    with tenant_scope(gym):
        assert Membership.objects.get(pk=south.membership_id).plan_id == home_plan.pk
    assert (north_again.result, north_again.reason) == (Result.DENIED, Reason.NO_ENTRIES_LEFT)
    # and the front desk sees the same at South
    desk = _desk_checkin(member, other_branch, front_desk, now + 7 * step)
    assert desk.result == Result.GRANTED
