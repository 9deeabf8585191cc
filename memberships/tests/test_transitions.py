"""Every status transition: the allowed ones happen and are recorded, the others are
refused and change nothing."""

import pytest

from gymsite.errors import Conflict
from memberships.models import Membership, MembershipStatusChange
from memberships.services import ALLOWED_TRANSITIONS, _lock, _transition
from memberships.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
S = Membership.Status
ALL = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.parametrize(("from_status", "to_status"), ALL)
def test_transition_matrix(in_gym, member, owner, from_status, to_status):
    # given
    membership = MembershipFactory(member=member, status=from_status)
    allowed = to_status in ALLOWED_TRANSITIONS[from_status]
    # when
    if allowed:
        _transition(_lock(membership), to_status, actor=owner, reason="because")
    else:
        with pytest.raises(Conflict) as error:
            _transition(_lock(membership), to_status, actor=owner, reason="because")
        assert error.value.code == "invalid_transition"
    # then
    membership.refresh_from_db()
    if allowed:
        assert membership.status == to_status
        change = MembershipStatusChange.objects.get(membership=membership)
        assert (change.from_status, change.to_status) == (from_status, to_status)
        assert change.actor == owner and change.reason == "because"
        assert change.created_at is not None
    else:
        assert membership.status == from_status
        assert not MembershipStatusChange.objects.filter(membership=membership).exists()


def test_terminal_states_have_no_way_out():
    assert ALLOWED_TRANSITIONS[S.CANCELLED] == set()
    assert ALLOWED_TRANSITIONS[S.EXPIRED] == set()
    # any live status can be cancelled
    for status in (S.PENDING, S.ACTIVE, S.FROZEN, S.PAST_DUE, S.SUSPENDED):
        assert S.CANCELLED in ALLOWED_TRANSITIONS[status]
