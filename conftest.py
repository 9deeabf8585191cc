"""Named actors shared by every app's tests.

Gym A has two branches (north, south); gym B is another tenant whose people must
never see A's data, and the reverse.
"""

import os

import pytest

from accounts.models import Role
from accounts.tenancy import tenant_scope
from accounts.tests.factories import (
    BranchFactory,
    MemberFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    TrainerProfileFactory,
    UserFactory,
)

LOGIN_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from gymsite.celery import app as celery_app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    # Rate limits (allauth, DRF throttles) count in the cache: start each test clean.
    from django.core.cache import cache

    cache.clear()
    # A failed publish in an earlier test must not leave dispatch to the relay here.
    from gymsite.outbox import broker_circuit_reset

    broker_circuit_reset()
    # Tasks run in-process; tests that need a real or a dead broker say so.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def gym(db):
    return OrganisationFactory(name="Gym A", slug="gym-a", domain="gym-a.test")


@pytest.fixture
def other_gym(db):
    return OrganisationFactory(name="Gym B", slug="gym-b", domain="gym-b.test")


@pytest.fixture
def branch(gym):
    return BranchFactory(organisation=gym, name="North", slug="north")


@pytest.fixture
def other_branch(gym):
    """A second branch of the same gym."""
    return BranchFactory(organisation=gym, name="South", slug="south")


@pytest.fixture
def foreign_branch(other_gym):
    return BranchFactory(organisation=other_gym, name="Elsewhere", slug="elsewhere")


@pytest.fixture
def owner(gym):
    user = UserFactory(email="owner@gym-a.test")
    RoleAssignmentFactory(user=user, organisation=gym, branch=None, role=Role.OWNER)
    return user


@pytest.fixture
def manager(branch):
    user = UserFactory(email="manager@gym-a.test")
    RoleAssignmentFactory(user=user, branch=branch, role=Role.BRANCH_MANAGER)
    return user


@pytest.fixture
def front_desk(branch):
    user = UserFactory(email="desk@gym-a.test")
    RoleAssignmentFactory(user=user, branch=branch, role=Role.FRONT_DESK)
    return user


@pytest.fixture
def trainer(gym, branch):
    profile = TrainerProfileFactory(organisation=gym, user=UserFactory(email="coach@gym-a.test"))
    profile.branches.add(branch)
    return profile


@pytest.fixture
def member(branch):
    return MemberFactory(home_branch=branch, user=UserFactory(email="member@gym-a.test"))


@pytest.fixture
def outsider(foreign_branch):
    """A member of gym B."""
    return MemberFactory(home_branch=foreign_branch, user=UserFactory(email="member@gym-b.test"))


@pytest.fixture
def in_gym(gym):
    """Run the test body inside gym A's tenant scope."""
    with tenant_scope(gym):
        yield gym


@pytest.fixture
def client_for(client):
    """A test client signed in as a user, talking to gym A's host."""

    def make(user, host="gym-a.test"):
        client.force_login(user, backend=LOGIN_BACKEND)
        client.defaults["HTTP_HOST"] = host
        return client

    return make


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient(HTTP_HOST="gym-a.test")


# --- browser journeys (gymsite/tests/browser.py) ---------------------------------------


def pytest_collection_modifyitems(config, items):
    """Browser journeys last: once Playwright has run, the process is changed for good."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from gymsite.tests.browser import CHROMIUM, CHROMIUM_FLAGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(params=["phone", "desktop"])
def journey(request, live_server, gym):
    """A fresh browser page on gym A's host at a phone and at a desktop size."""
    from gymsite.tests.browser import VIEWPORTS, Journey, require_chromium

    require_chromium()
    # Playwright's sync API leaves an event loop set in this thread for the rest of the
    # process, and Django then refuses every ORM call (the test's own and the database
    # teardown's), though they are all still synchronous. The journeys run after every
    # other test (pytest_collection_modifyitems), so no other test runs with this set.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    browser = request.getfixturevalue("browser")
    size = request.param
    context = browser.new_context(viewport=VIEWPORTS[size], locale="en-GB")
    page = context.new_page()
    port = live_server.url.rsplit(":", 1)[1]
    yield Journey(
        page=page,
        base_url=f"http://{gym.domain}:{port}",
        size=size,
        name=request.node.name,
    )
    context.close()
