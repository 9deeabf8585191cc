"""Factories for the reports app's tenant models (the isolation walk needs one each)."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.tests.factories import BranchFactory, MemberFactory, OrganisationFactory, UserFactory
from reports.models import (
    AtRiskContact,
    DailyBreakdown,
    DailyFigures,
    MemberMonthVisits,
    MonthlyMrr,
    RollupState,
    SummarySubscription,
)


class DailyFiguresFactory(DjangoModelFactory):
    class Meta:
        model = DailyFigures

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    day = factory.LazyFunction(timezone.localdate)


class DailyBreakdownFactory(DjangoModelFactory):
    class Meta:
        model = DailyBreakdown

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    day = factory.LazyFunction(timezone.localdate)
    kind = DailyBreakdown.Kind.REVENUE_OTHER
    key = ""


class RollupStateFactory(DjangoModelFactory):
    class Meta:
        model = RollupState

    organisation = factory.SubFactory(OrganisationFactory)


class AtRiskContactFactory(DjangoModelFactory):
    class Meta:
        model = AtRiskContact

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    branch = factory.SelfAttribute("member.home_branch")
    outcome = AtRiskContact.Outcome.CALLED


class SummarySubscriptionFactory(DjangoModelFactory):
    class Meta:
        model = SummarySubscription

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)


class MemberMonthVisitsFactory(DjangoModelFactory):
    class Meta:
        model = MemberMonthVisits

    member = factory.SubFactory(MemberFactory)
    organisation = factory.SelfAttribute("member.organisation")
    month = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    visits = 1
    last_visit = factory.LazyFunction(timezone.now)


class MonthlyMrrFactory(DjangoModelFactory):
    class Meta:
        model = MonthlyMrr

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    month = factory.LazyFunction(timezone.localdate)
