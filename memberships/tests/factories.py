"""Factories for plans and memberships. Organisation is always passed explicitly."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import MemberFactory, OrganisationFactory
from memberships.models import (
    Membership,
    MembershipFreeze,
    MembershipStatusChange,
    Plan,
    PlanChange,
)


class PlanFactory(DjangoModelFactory):
    """A monthly recurring plan; use the traits for the other kinds."""

    class Meta:
        model = Plan
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    kind = Plan.Kind.RECURRING
    price = Decimal("40.00")
    currency = "GBP"
    billing_interval = Plan.Interval.MONTH
    interval_count = 1
    auto_renew = True

    class Params:
        fixed_term = factory.Trait(
            kind=Plan.Kind.FIXED_TERM, billing_interval="", auto_renew=False, duration_days=90
        )
        class_pack = factory.Trait(
            kind=Plan.Kind.CLASS_PACK,
            billing_interval="",
            auto_renew=False,
            credits=10,
            credit_validity_days=90,
            price=Decimal("80.00"),
        )
        entry_ticket = factory.Trait(
            kind=Plan.Kind.ENTRY_TICKET,
            billing_interval="",
            auto_renew=False,
            entries=10,
            price=Decimal("60.00"),
        )
        unlimited = factory.Trait(kind=Plan.Kind.UNLIMITED, billing_interval="", auto_renew=False)


class MembershipFactory(DjangoModelFactory):
    """An active membership of a monthly plan, in its first period."""

    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    payer = factory.LazyAttribute(lambda o: o.member.billing_member)
    plan = factory.SubFactory(PlanFactory, organisation=factory.SelfAttribute("..organisation"))
    status = Membership.Status.ACTIVE
    start_date = factory.LazyFunction(timezone.localdate)
    end_date = None
    current_period_start = factory.SelfAttribute("start_date")
    current_period_end = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=29))
    auto_renew = factory.SelfAttribute("plan.auto_renew")
    price = factory.SelfAttribute("plan.price")
    currency = factory.SelfAttribute("plan.currency")
    credits_remaining = factory.SelfAttribute("plan.credits")
    entries_remaining = factory.SelfAttribute("plan.entries")


class MembershipStatusChangeFactory(DjangoModelFactory):
    class Meta:
        model = MembershipStatusChange

    membership = factory.SubFactory(MembershipFactory)
    organisation = factory.SelfAttribute("membership.organisation")
    from_status = Membership.Status.PENDING
    to_status = Membership.Status.ACTIVE
    reason = "Paid"


class MembershipFreezeFactory(DjangoModelFactory):
    class Meta:
        model = MembershipFreeze

    membership = factory.SubFactory(MembershipFactory)
    organisation = factory.SelfAttribute("membership.organisation")
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=10))
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=13))


class PlanChangeFactory(DjangoModelFactory):
    class Meta:
        model = PlanChange

    membership = factory.SubFactory(MembershipFactory)
    organisation = factory.SelfAttribute("membership.organisation")
    from_plan = factory.SelfAttribute("membership.plan")
    to_plan = factory.SubFactory(PlanFactory, organisation=factory.SelfAttribute("..organisation"))
    effective_date = factory.LazyFunction(timezone.localdate)
    new_period_end = factory.LazyAttribute(lambda o: o.membership.current_period_end)
    credit = Decimal("10.00")
    charge = Decimal("15.00")
