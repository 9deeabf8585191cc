import pytest
from rest_framework.test import APIClient

from access.tests.factories import device_with_key, membership_make
from accounts.tests.factories import MemberFactory, UserFactory


@pytest.fixture
def device_and_key(branch):
    return device_with_key(branch)


@pytest.fixture
def device(device_and_key):
    return device_and_key[0]


@pytest.fixture
def device_client(device_and_key):
    """An API client speaking as the turnstile at the North branch."""
    client = APIClient(HTTP_HOST="gym-a.test")
    client.credentials(HTTP_AUTHORIZATION=f"Device {device_and_key[1]}")
    return client


@pytest.fixture
def active_member(branch):
    """A member of gym A with an active unlimited membership."""
    member = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(member)
    return member


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """Each test sets up its own opening hours and plans: start with nothing cached."""
    from access import cache

    cache.clear()
    yield
    cache.clear()
