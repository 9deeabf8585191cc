import pytest

from accounts.tests.factories import MemberFactory


@pytest.fixture
def payer(branch):
    return MemberFactory(home_branch=branch)


@pytest.fixture(autouse=True)
def _sandbox_provider(settings):
    settings.BILLING_SANDBOX_ENABLED = True
