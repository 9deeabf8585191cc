"""Every reason a door says yes or no, through the device API and the service."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from access import credentials as creds
from access import services
from access.models import AccessLog, Reason, Result
from access.tests.factories import (
    AccessPolicyFactory,
    CredentialFactory,
    QrCredentialFactory,
    membership_make,
    plan_make,
)
from accounts.models import Member
from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, OpeningHoursFactory, UserFactory
from memberships.models import Membership, Plan

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


@pytest.fixture
def person(branch):
    return MemberFactory(home_branch=branch, user=UserFactory())


@pytest.fixture
def card(person):
    return CredentialFactory(member=person)


def _checkin(device_client, credential_text, **extra):
    response = device_client.post(URL, {"credential": credential_text, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_active_membership_is_granted_and_logged(device_client, device, person, card):
    # given
    membership_make(person)
    # when
    body = _checkin(device_client, card.number)
    # then
    assert (body["result"], body["reason"]) == ("granted", "ok")
    assert body["member"]["name"] == person.full_name
    log = AccessLog.objects.unscoped().get(pk=body["log_id"])
    assert (log.member, log.device, log.branch_id, log.result) == (
        person,
        device,
        device.branch_id,
        Result.GRANTED,
    )


def test_card_numbers_match_whatever_the_spacing_and_case(device_client, person):
    membership_make(person)
    CredentialFactory(member=person, number="AB12CD")
    assert _checkin(device_client, " ab12 cd ")["result"] == "granted"


def test_unknown_card_is_denied_and_logged(device_client):
    body = _checkin(device_client, "NO-SUCH-CARD")
    assert (body["result"], body["reason"]) == ("denied", "unknown_credential")
    log = AccessLog.objects.unscoped().get(pk=body["log_id"])
    assert log.member is None
    assert log.presented == "NO-SUCH-CARD"


def test_revoked_card_is_unknown(device_client, person, card):
    membership_make(person)
    with tenant_scope(person.organisation):
        services.credential_revoke(credential=card)
    assert _checkin(device_client, card.number)["reason"] == "unknown_credential"


def test_qr_code_is_granted_while_current(device_client, person):
    membership_make(person)
    qr = QrCredentialFactory(member=person)
    payload = creds.qr_payload(credential_id=qr.pk, secret=qr.secret)
    assert _checkin(device_client, payload)["result"] == "granted"


def test_yesterdays_qr_screenshot_is_refused(device_client, person):
    # given: a code made yesterday, correctly signed
    membership_make(person)
    qr = QrCredentialFactory(member=person)
    yesterday = timezone.now() - timedelta(days=1)
    old = creds.qr_payload(credential_id=qr.pk, secret=qr.secret, at=yesterday)
    # when / then
    body = _checkin(device_client, old)
    assert (body["result"], body["reason"]) == ("denied", "code_expired")
    # and a code a few minutes old is refused too
    stale = creds.qr_payload(
        credential_id=qr.pk, secret=qr.secret, at=timezone.now() - timedelta(minutes=3)
    )
    assert _checkin(device_client, stale)["reason"] == "code_expired"


def test_forged_or_rotated_qr_is_unknown(device_client, person):
    membership_make(person)
    qr = QrCredentialFactory(member=person)
    forged = creds.qr_payload(credential_id=qr.pk, secret="00" * 32)
    assert _checkin(device_client, forged)["reason"] == "unknown_credential"
    # the code of a rotated credential dies with it
    current = creds.qr_payload(credential_id=qr.pk, secret=qr.secret)
    with tenant_scope(person.organisation):
        services.credential_qr_rotate(member=person)
    assert _checkin(device_client, current)["reason"] == "unknown_credential"


def test_no_membership(device_client, card):
    assert _checkin(device_client, card.number)["reason"] == "no_membership"


def test_archived_member_has_no_membership(device_client, person, card):
    membership_make(person)
    Member.objects.unscoped().filter(pk=person.pk).update(status=Member.Status.ARCHIVED)
    assert _checkin(device_client, card.number)["reason"] == "no_membership"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Membership.Status.PENDING, "pending"),
        (Membership.Status.FROZEN, "frozen"),
        (Membership.Status.PAST_DUE, "past_due"),
        (Membership.Status.SUSPENDED, "suspended"),
        (Membership.Status.CANCELLED, "cancelled"),
        (Membership.Status.EXPIRED, "expired"),
    ],
)
def test_membership_status_refuses_with_its_reason(device_client, person, card, status, reason):
    membership_make(person, status=status)
    body = _checkin(device_client, card.number)
    assert (body["result"], body["reason"]) == ("denied", reason)


def test_membership_past_its_end_date_is_expired(device_client, person, card):
    membership_make(person, end_date=timezone.localdate() - timedelta(days=2))
    assert _checkin(device_client, card.number)["reason"] == "expired"


def test_membership_starting_later_is_pending(device_client, person, card):
    membership_make(person, start_date=timezone.localdate() + timedelta(days=3))
    assert _checkin(device_client, card.number)["reason"] == "pending"


def test_ticket_outside_its_validity_dates(device_client, person, card):
    plan = plan_make(
        person.organisation,
        kind=Plan.Kind.ENTRY_TICKET,
        entries=10,
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    membership_make(person, plan=plan)
    assert _checkin(device_client, card.number)["reason"] == "expired"


def test_branch_not_included_in_plan(device_client, person, card, other_branch):
    plan = plan_make(person.organisation, name="South only")
    plan.branches.add(other_branch)
    membership_make(person, plan=plan)
    assert _checkin(device_client, card.number)["reason"] == "branch_not_included"


def test_plan_including_this_branch_is_granted(device_client, device, person, card):
    plan = plan_make(person.organisation, name="North only")
    plan.branches.add(device.branch)
    membership_make(person, plan=plan)
    assert _checkin(device_client, card.number)["result"] == "granted"


# Time-dependent reasons run through the service with a fixed moment: a Monday,
# 07:30 in London (GMT in January).
MONDAY_0730 = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)


def _attempt(device, card, at=MONDAY_0730):
    with tenant_scope(device.organisation_id, branch_ids=[device.branch_id]):
        return services.checkin_attempt(
            branch=device.branch, device=device, presented=card.number, at=at
        ).log


def test_off_peak_plan_outside_its_hours(device, person, card):
    plan = plan_make(person.organisation, access_from=time(10, 0), access_until=time(16, 0))
    membership_make(person, plan=plan)
    assert _attempt(device, card).reason == Reason.OUTSIDE_PLAN_HOURS
    assert _attempt(device, card, at=MONDAY_0730.replace(hour=11)).reason == Reason.OK


def test_branch_closed_by_opening_hours(device, person, card):
    membership_make(person)
    OpeningHoursFactory(branch=device.branch, weekday=0, opens_at="08:00", closes_at="22:00")
    assert _attempt(device, card).reason == Reason.BRANCH_CLOSED
    assert _attempt(device, card, at=MONDAY_0730.replace(hour=9)).reason == Reason.OK
    # no hours at all on Tuesday: closed all day
    assert _attempt(device, card, at=MONDAY_0730 + timedelta(days=1)).reason == (
        Reason.BRANCH_CLOSED
    )


def test_opening_hours_follow_the_branch_time_zone(device, person, card):
    # given: a branch in New York open 06:00-22:00 local; 07:30 UTC is 02:30 there
    membership_make(person)
    device.branch.timezone = "America/New_York"
    device.branch.save()
    OpeningHoursFactory(branch=device.branch, weekday=0, opens_at="06:00", closes_at="22:00")
    assert _attempt(device, card).reason == Reason.BRANCH_CLOSED
    assert _attempt(device, card, at=MONDAY_0730.replace(hour=12)).reason == Reason.OK


def test_inactive_branch_is_closed(device, person, card):
    membership_make(person)
    device.branch.is_active = False
    device.branch.save()
    assert _attempt(device, card).reason == Reason.BRANCH_CLOSED


def test_limited_ticket_consumes_one_entry(device_client, person, card):
    plan = plan_make(person.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=5)
    membership = membership_make(person, plan=plan)
    body = _checkin(device_client, card.number)
    assert (body["result"], body["entry_consumed"], body["entries_remaining"]) == (
        "granted",
        True,
        4,
    )
    membership.refresh_from_db()
    assert membership.entries_remaining == 4


def test_no_entries_left(device_client, person, card):
    plan = plan_make(person.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=5)
    membership_make(person, plan=plan, entries_remaining=0)
    body = _checkin(device_client, card.number)
    assert (body["result"], body["reason"], body["entry_consumed"]) == (
        "denied",
        "no_entries_left",
        False,
    )


def test_coming_back_on_the_same_visit_costs_no_second_entry(device, person, card):
    plan = plan_make(person.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=5)
    membership = membership_make(person, plan=plan)
    first = _attempt(device, card)
    back = _attempt(device, card, at=MONDAY_0730 + timedelta(minutes=20))
    next_day = _attempt(device, card, at=MONDAY_0730 + timedelta(days=1))
    assert (first.reason, first.entry_consumed) == (Reason.OK, True)
    assert (back.result, back.reason, back.entry_consumed) == (
        Result.GRANTED,
        Reason.REENTRY,
        False,
    )
    assert next_day.entry_consumed
    membership.refresh_from_db()
    assert membership.entries_remaining == 3


def test_anti_passback_refuses_a_second_entry_until_checkout(device, person, card):
    # given: anti-passback of 30 minutes at the branch, and an exit reader
    membership_make(person)
    AccessPolicyFactory(branch=device.branch, anti_passback_minutes=30)
    device.branch.refresh_from_db()
    first = _attempt(device, card)
    passed_back = _attempt(device, card, at=MONDAY_0730 + timedelta(minutes=5))
    assert first.reason == Reason.OK
    assert (passed_back.result, passed_back.reason) == (Result.DENIED, Reason.ALREADY_INSIDE)
    # when: they check out, they may come in again
    with tenant_scope(device.organisation_id):
        services.checkin_attempt(
            branch=device.branch,
            presented=card.number,
            direction=AccessLog.Direction.EXIT,
            at=MONDAY_0730 + timedelta(minutes=6),
        )
    assert _attempt(device, card, at=MONDAY_0730 + timedelta(minutes=7)).reason == Reason.OK
    # and after the window, without checking out
    assert _attempt(device, card, at=MONDAY_0730 + timedelta(minutes=40)).reason == Reason.OK


def test_anti_passback_off_by_default(device, person, card):
    membership_make(person)
    assert _attempt(device, card).reason == Reason.OK
    assert _attempt(device, card, at=MONDAY_0730 + timedelta(minutes=1)).reason == Reason.OK


def test_exit_device_records_checkout(branch, person, card):
    from access.tests.factories import device_with_key

    membership_make(person, status=Membership.Status.FROZEN)
    exit_device, _ = device_with_key(branch, direction="out")
    log = _attempt(exit_device, card)
    assert (log.result, log.reason, log.direction) == (Result.GRANTED, Reason.CHECKOUT, "out")


def test_wrong_direction_for_a_one_way_device_is_refused(device_client, card):
    response = device_client.post(URL, {"credential": card.number, "direction": "out"})
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_direction"


def test_deciding_membership_is_the_usable_one(device_client, person, card):
    # given: an old expired membership and a current active one
    membership_make(person, status=Membership.Status.EXPIRED, end_date=date(2021, 1, 1))
    membership_make(person, start_date=date(2024, 1, 1))
    assert _checkin(device_client, card.number)["result"] == "granted"
