"""Factories for staff rows (each passes ``organisation`` explicitly)."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Role
from accounts.tests.factories import BranchFactory, OrganisationFactory, UserFactory
from staff.models import Employment, Invitation, PayLine, PayPeriod, PayRate, Shift, token_digest


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.OWNER
    token_digest = factory.Sequence(lambda n: token_digest(f"token-{n}"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class EmploymentFactory(DjangoModelFactory):
    class Meta:
        model = Employment

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)


class PayRateFactory(DjangoModelFactory):
    class Meta:
        model = PayRate

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    kind = PayRate.Kind.SHIFT
    amount = Decimal("12.50")
    currency = "GBP"
    effective_from = date(2020, 1, 1)


class ShiftFactory(DjangoModelFactory):
    class Meta:
        model = Shift

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    user = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(
        lambda: timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=8))


class PayPeriodFactory(DjangoModelFactory):
    class Meta:
        model = PayPeriod

    branch = factory.SubFactory(BranchFactory)
    organisation = factory.SelfAttribute("branch.organisation")
    starts_on = factory.Sequence(lambda n: date(2024, 1, 1) + timedelta(days=31 * n))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + timedelta(days=27))
    currency = "GBP"


class PayLineFactory(DjangoModelFactory):
    class Meta:
        model = PayLine

    period = factory.SubFactory(PayPeriodFactory)
    organisation = factory.SelfAttribute("period.organisation")
    user = factory.SubFactory(UserFactory)
    kind = PayLine.Kind.ADJUSTMENT
    work_date = factory.SelfAttribute("period.starts_on")
    description = "Adjustment"
    reason = "Bonus"
    amount = Decimal("10.00")
