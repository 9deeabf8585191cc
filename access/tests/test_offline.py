"""Offline fallback: a signed allow-list, synced incrementally; uploads counted once."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from access import credentials as creds
from access.models import AccessLog, Credential, Result
from access.tests.factories import (
    CredentialFactory,
    QrCredentialFactory,
    membership_make,
    plan_make,
)
from accounts.tests.factories import MemberFactory, UserFactory
from memberships.models import Membership, Plan

pytestmark = pytest.mark.django_db

ALLOWLIST = "/api/v1/access/allowlist"
UPLOAD = "/api/v1/access/offline-events"
CHECKIN = "/api/v1/access/checkin"


def _verify(body, key):
    """What a device does with the list: recompute the HMAC from its own key."""
    canonical = json.dumps(body["payload"], sort_keys=True, separators=(",", ":")).encode()
    signing_key = hashlib.sha256(key.encode()).digest()
    expected = hmac.new(signing_key, canonical, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, body["signature"])


@pytest.fixture
def ticket_holder(branch):
    member = MemberFactory(home_branch=branch, user=UserFactory())
    plan = plan_make(member.organisation, kind=Plan.Kind.ENTRY_TICKET, entries=10)
    membership = membership_make(member, plan=plan)
    return member, membership, CredentialFactory(member=member, number="TICKET1")


def test_allowlist_is_signed_for_the_device_and_lists_who_may_enter(
    device_client, device_and_key, active_member, branch
):
    # given: one allowed member (card + QR) and one frozen member
    card = CredentialFactory(member=active_member, number="CARD-OK")
    qr = QrCredentialFactory(member=active_member)
    frozen = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(frozen, status=Membership.Status.FROZEN)
    CredentialFactory(member=frozen, number="CARD-FROZEN")
    # when
    response = device_client.get(ALLOWLIST)
    # then
    assert response.status_code == 200
    body = response.json()
    assert _verify(body, device_and_key[1])
    entries = {e["member"]: e for e in body["payload"]["members"]}
    ok = entries[active_member.pk]
    assert ok["allowed"] is True
    assert {c["kind"] for c in ok["credentials"]} == {"card", "qr"}
    card_entry = next(c for c in ok["credentials"] if c["kind"] == "card")
    assert card_entry["number_sha256"] == creds.card_number_hash(card.number)
    assert "number" not in card_entry
    qr_entry = next(c for c in ok["credentials"] if c["kind"] == "qr")
    # the device can check a rotating QR code offline with the secret
    code = creds.qr_parse(creds.qr_payload(credential_id=qr.pk, secret=qr.secret))
    assert creds.qr_signature_valid(parsed=code, secret=qr_entry["secret"])
    assert (entries[frozen.pk]["allowed"], entries[frozen.pk]["reason"]) == (False, "frozen")
    assert body["payload"]["full"] is True


def test_tampered_allowlist_fails_verification(device_client, device_and_key, active_member):
    CredentialFactory(member=active_member)
    body = device_client.get(ALLOWLIST).json()
    body["payload"]["members"][0]["allowed"] = not body["payload"]["members"][0]["allowed"]
    assert not _verify(body, device_and_key[1])


def test_another_devices_key_cannot_verify_the_list(device_client, branch, active_member):
    from access.tests.factories import device_with_key

    CredentialFactory(member=active_member)
    _, other_key = device_with_key(branch)
    assert not _verify(device_client.get(ALLOWLIST).json(), other_key)


def test_incremental_sync_returns_only_changes(device_client, active_member, branch):
    # given: a full list taken, then one member frozen
    CredentialFactory(member=active_member)
    unchanged = MemberFactory(home_branch=branch, user=UserFactory())
    membership_make(unchanged)
    CredentialFactory(member=unchanged)
    # (rows last changed an hour ago, outside the cursor's overlap)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Membership.objects.unscoped().update(updated_at=an_hour_ago)
    Credential.objects.unscoped().update(updated_at=an_hour_ago)
    full = device_client.get(ALLOWLIST).json()["payload"]
    assert len(full["members"]) == 2
    membership = Membership.objects.unscoped().get(member=active_member)
    membership.status = Membership.Status.FROZEN
    membership.save()
    # when
    delta = device_client.get(ALLOWLIST, {"since": full["cursor"]}).json()["payload"]
    # then
    assert delta["full"] is False
    assert [(e["member"], e["allowed"]) for e in delta["members"]] == [(active_member.pk, False)]


def test_incremental_sync_drops_a_revoked_card(device_client, active_member):
    from access import services
    from accounts.tenancy import tenant_scope

    card = CredentialFactory(member=active_member)
    cursor = device_client.get(ALLOWLIST).json()["payload"]["cursor"]
    with tenant_scope(active_member.organisation):
        services.credential_revoke(credential=card)
    delta = device_client.get(ALLOWLIST, {"since": cursor}).json()["payload"]
    assert delta["members"][0]["credentials"] == []


def test_bad_cursor_is_400(device_client):
    response = device_client.get(ALLOWLIST, {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()["fields"]


def _events(card_number, start, count=1, prefix="off"):
    return [
        {
            "request_id": f"{prefix}-{i}",
            "credential": card_number,
            "occurred_at": (start + timedelta(days=i)).isoformat(),
            "result": "granted",
            "reason": "ok",
        }
        for i in range(count)
    ]


def test_uploading_the_same_offline_decisions_twice_counts_them_once(device_client, ticket_holder):
    # given: three visits on three days made offline
    member, membership, card = ticket_holder
    events = _events(card.number, timezone.now() - timedelta(days=5), count=3)
    # when: uploaded, then uploaded again (the device never saw the first reply)
    first = device_client.post(UPLOAD, {"events": events}, format="json").json()
    again = device_client.post(UPLOAD, {"events": events}, format="json").json()
    # then
    assert (first["applied"], first["duplicates"]) == (3, 0)
    assert (again["applied"], again["duplicates"]) == (0, 3)
    assert [r["log_id"] for r in first["results"]] == [r["log_id"] for r in again["results"]]
    membership.refresh_from_db()
    assert membership.entries_remaining == 7
    logs = AccessLog.objects.unscoped().filter(member=member)
    assert logs.count() == 3
    assert set(logs.values_list("source", flat=True)) == {"offline"}


def test_offline_grant_on_a_visit_already_charged_online_is_not_charged_again(
    device_client, ticket_holder
):
    # given: checked in online (one entry), and the device had also let them in
    # offline a minute earlier while its link flapped
    _member, membership, card = ticket_holder
    device_client.post(CHECKIN, {"credential": card.number, "request_id": "on-1"}, format="json")
    events = _events(card.number, timezone.now() - timedelta(minutes=1))
    # when
    body = device_client.post(UPLOAD, {"events": events}, format="json").json()
    # then: one visit, one entry
    assert body["results"][0]["entry_consumed"] is False
    membership.refresh_from_db()
    assert membership.entries_remaining == 9


def test_offline_grant_with_no_entries_left_is_recorded_not_overdrawn(device_client, ticket_holder):
    _member, membership, card = ticket_holder
    Membership.objects.unscoped().filter(pk=membership.pk).update(entries_remaining=0)
    body = device_client.post(
        UPLOAD, {"events": _events(card.number, timezone.now())}, format="json"
    ).json()
    log = AccessLog.objects.unscoped().get(pk=body["results"][0]["log_id"])
    assert (log.result, log.entry_consumed) == (Result.GRANTED, False)
    assert "No entries left" in log.note
    membership.refresh_from_db()
    assert membership.entries_remaining == 0


def test_offline_qr_code_is_checked_at_the_time_it_was_shown(device_client, active_member):
    # given: a QR code shown two hours ago, while offline
    qr = QrCredentialFactory(member=active_member)
    shown_at = timezone.now() - timedelta(hours=2)
    payload = creds.qr_payload(credential_id=qr.pk, secret=qr.secret, at=shown_at)
    event = {
        "request_id": "qr-1",
        "credential": payload,
        "occurred_at": shown_at.isoformat(),
        "result": "granted",
    }
    # when
    body = device_client.post(UPLOAD, {"events": [event]}, format="json").json()
    # then: attributed to the member, at the time it happened
    log = AccessLog.objects.unscoped().get(pk=body["results"][0]["log_id"])
    assert log.member == active_member
    assert abs(log.occurred_at - parse_datetime(shown_at.isoformat())) < timedelta(seconds=1)


def test_upload_with_bad_events_is_400_and_applies_nothing(device_client, ticket_holder):
    _, membership, card = ticket_holder
    events = _events(card.number, timezone.now(), count=2)
    events[1]["result"] = "maybe"
    response = device_client.post(UPLOAD, {"events": events}, format="json")
    assert response.status_code == 400
    assert not AccessLog.objects.unscoped().exists()
    membership.refresh_from_db()
    assert membership.entries_remaining == 10


def test_offline_events_from_the_future_or_too_old_are_refused(device_client, ticket_holder):
    _, _, card = ticket_holder
    future = _events(card.number, timezone.now() + timedelta(hours=1))
    ancient = _events(card.number, timezone.now() - timedelta(days=60))
    for events in (future, ancient):
        response = device_client.post(UPLOAD, {"events": events}, format="json")
        assert response.status_code == 400
    assert not AccessLog.objects.unscoped().exists()
