"""Freezing, cancelling, expiring or missing a payment refuses the very next check-in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.tests.factories import CredentialFactory
from memberships.models import Membership

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


def _reason(device_client, card):
    return device_client.post(URL, {"credential": card.number}, format="json").json()["reason"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": Membership.Status.FROZEN}, "frozen"),
        ({"status": Membership.Status.CANCELLED}, "cancelled"),
        ({"status": Membership.Status.PAST_DUE}, "past_due"),
        ({"status": Membership.Status.SUSPENDED}, "suspended"),
        ({"status": Membership.Status.EXPIRED}, "expired"),
        ({"end_date": timezone.localdate() - timedelta(days=1)}, "expired"),
    ],
)
def test_revocation_applies_to_the_next_checkin(device_client, active_member, change, reason):
    # given: the member was just let in
    card = CredentialFactory(member=active_member)
    assert _reason(device_client, card) == "ok"
    # when: the membership row changes (as the memberships services change it)
    Membership.objects.unscoped().filter(member=active_member).update(**change)
    # then: the very next attempt is refused, with no sync delay
    assert _reason(device_client, card) == reason


def test_reactivation_applies_to_the_next_checkin(device_client, active_member):
    card = CredentialFactory(member=active_member)
    Membership.objects.unscoped().filter(member=active_member).update(
        status=Membership.Status.PAST_DUE
    )
    assert _reason(device_client, card) == "past_due"
    Membership.objects.unscoped().filter(member=active_member).update(
        status=Membership.Status.ACTIVE
    )
    assert _reason(device_client, card) == "ok"
