from datetime import date
from decimal import Decimal

import pytest

from accounts.tests.factories import MemberFactory
from billing.tests.factories import PaymentMethodFactory
from memberships.tests.factories import PlanFactory


@pytest.fixture(autouse=True)
def _sandbox_provider(settings):
    settings.BILLING_SANDBOX_ENABLED = True
    settings.BILLING_DUNNING_RETRY_DAYS = (1, 3, 7)


@pytest.fixture
def monthly(gym):
    return PlanFactory(
        organisation=gym, name="Monthly", price=Decimal("40.00"), signup_fee=Decimal("10.00")
    )


@pytest.fixture
def dependant(member):
    return MemberFactory(
        home_branch=member.home_branch,
        payer=member,
        user=None,
        first_name="Kid",
        last_name="Member",
        email="",
    )


@pytest.fixture
def card(member):
    return PaymentMethodFactory(member=member, method_reference="pm_card_visa")


@pytest.fixture
def declining_card(member):
    return PaymentMethodFactory(member=member, method_reference="pm_decline_insufficient_funds")


D = date
