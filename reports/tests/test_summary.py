"""The weekly summary goes, once, to owners and branch managers who asked for it,
with the figures of the branches each may see."""

from datetime import date

import pytest

from accounts.tenancy import tenant_scope
from gymsite.models import OutboxMessage
from reports import services
from reports.tests.factories import SummarySubscriptionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_weekly_summary_through_the_outbox(gym, branch, other_branch, owner, manager, front_desk):
    # given: the owner and the manager opted in; the front desk did too, but may not
    for user in (owner, manager, front_desk):
        SummarySubscriptionFactory(organisation=gym, user=user)
    monday = date(2026, 11, 23)
    # when
    with tenant_scope(gym):
        sent = services.weekly_summary_send(week_start=monday, organisation_id=gym.pk)
        again = services.weekly_summary_send(week_start=monday, organisation_id=gym.pk)
    # then: one email each for owner and manager, none on the second run
    assert sent == 2 and again == 0
    messages = {m.payload["to"][0]: m for m in OutboxMessage.objects.filter(kind="email")}
    assert set(messages) == {owner.email, manager.email}
    assert "North, South" in messages[owner.email].payload["body"]
    manager_body = messages[manager.email].payload["body"]
    assert "North" in manager_body and "South" not in manager_body
    assert "2026-11-23" in messages[manager.email].payload["subject"]
