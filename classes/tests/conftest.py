import pytest

from accounts.tests.factories import UserFactory
from classes.tests.factories import ClassSessionFactory


@pytest.fixture
def session_factory(gym, branch):
    def make(**fields):
        fields.setdefault("branch", branch)
        fields.setdefault("organisation", gym)
        return ClassSessionFactory(**fields)

    return make


@pytest.fixture
def staff_user():
    return UserFactory(email="staff-actor@gym-a.test")
