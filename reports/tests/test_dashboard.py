"""The back office's front page shows the scope's figures with bounded queries."""

import pytest
from django.urls import reverse

from access.tests.factories import AccessLogFactory

pytestmark = pytest.mark.django_db


def _kpis(response):
    return dict(response.context["kpis"])


def test_owner_sees_the_whole_gym(
    client_for, owner, branch, other_branch, django_assert_max_num_queries
):
    AccessLogFactory(branch=branch)
    AccessLogFactory(branch=other_branch)
    client = client_for(owner)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert _kpis(response)["Check-ins today"] == 2
    assert '"Check-ins"' in response.context["checkins_chart"]


def test_branch_manager_sees_only_their_branch(
    client_for, manager, branch, other_branch, foreign_branch
):
    AccessLogFactory(branch=branch)
    AccessLogFactory(branch=other_branch)
    AccessLogFactory(branch=foreign_branch)
    response = client_for(manager).get(reverse("admin:index"))
    assert _kpis(response)["Check-ins today"] == 1


def test_active_memberships_are_the_branch_logins_own(
    client_for, owner, manager, gym, branch, other_branch
):
    from accounts.tests.factories import MemberFactory
    from memberships.tests.factories import MembershipFactory

    # given: one active membership at each branch
    MembershipFactory(member=MemberFactory(home_branch=branch), organisation=gym, branch=branch)
    MembershipFactory(
        member=MemberFactory(home_branch=other_branch), organisation=gym, branch=other_branch
    )
    # then: the owner counts both, North's manager only North's
    assert _kpis(client_for(owner).get(reverse("admin:index")))["Active memberships"] == 2
    assert _kpis(client_for(manager).get(reverse("admin:index")))["Active memberships"] == 1
