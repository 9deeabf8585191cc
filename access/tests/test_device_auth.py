"""Devices authenticate with their own key: missing, wrong or revoked keys get nowhere."""

import pytest
from rest_framework.test import APIClient

from access import services
from access.models import AccessLog, Result
from access.tests.factories import CredentialFactory, device_with_key
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


def _client(key=None, host="gym-a.test"):
    client = APIClient(HTTP_HOST=host)
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def _no_grants():
    return not AccessLog.objects.unscoped().filter(result=Result.GRANTED).exists()


def test_missing_key_is_401_and_nothing_logged(active_member):
    # given: a valid card, but no device key
    card = CredentialFactory(member=active_member)
    # when
    response = _client().post(URL, {"credential": card.number}, format="json")
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Device")
    assert not AccessLog.objects.unscoped().exists()


def test_wrong_key_is_401(device_and_key, active_member):
    card = CredentialFactory(member=active_member)
    _device, key = device_and_key
    for wrong in [key[:-2] + "xx", "spd_000000000000_nope", "garbage", key + "x"]:
        response = _client(wrong).post(URL, {"credential": card.number}, format="json")
        assert response.status_code == 401, wrong
    assert _no_grants()


def test_revoked_key_is_403(device_and_key, active_member):
    # given: a device revoked from the admin
    device, key = device_and_key
    card = CredentialFactory(member=active_member)
    with tenant_scope(device.organisation):
        services.device_revoke(device=device)
    # when
    response = _client(key).post(URL, {"credential": card.number}, format="json")
    # then
    assert response.status_code == 403
    assert _no_grants()


def test_rotated_key_replaces_the_old_one(device_and_key, active_member):
    device, old_key = device_and_key
    card = CredentialFactory(member=active_member)
    with tenant_scope(device.organisation):
        new_key = services.device_rotate_key(device=device).key
    assert _client(old_key).post(URL, {"credential": card.number}).status_code == 401
    response = _client(new_key).post(URL, {"credential": card.number}, format="json")
    assert response.status_code == 200
    assert response.json()["result"] == "granted"


def test_device_of_another_gym_is_refused_at_this_gyms_host(foreign_branch, active_member):
    # given: gym B's device talking to gym A's host name
    _, foreign_key = device_with_key(foreign_branch)
    card = CredentialFactory(member=active_member)
    # when
    response = _client(foreign_key, host="gym-a.test").post(URL, {"credential": card.number})
    # then
    assert response.status_code == 401
    assert _no_grants()


def test_device_only_sees_its_own_gym(foreign_branch, active_member):
    # given: gym B's device on a shared host; gym A's card
    _, foreign_key = device_with_key(foreign_branch)
    card = CredentialFactory(member=active_member)
    # when
    response = _client(foreign_key, host="api.shared.test").post(
        URL, {"credential": card.number}, format="json"
    )
    # then: unknown to gym B
    assert response.status_code == 200
    assert response.json()["reason"] == "unknown_credential"
    assert _no_grants()


def test_a_jwt_user_is_not_a_device(client_for, owner, active_member):
    card = CredentialFactory(member=active_member)
    client = client_for(owner)
    response = client.post(URL, {"credential": card.number}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert _no_grants()


def test_bad_input_is_400_and_changes_nothing(device_client):
    response = device_client.post(URL, {"credential": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "credential" in response.json()["fields"]
    assert not AccessLog.objects.unscoped().exists()


def test_each_device_call_keeps_last_seen_current_at_most_once_a_minute(
    device_and_key, active_member
):
    from datetime import timedelta

    from django.utils import timezone

    from access.models import AccessDevice

    device, key = device_and_key
    card = CredentialFactory(member=active_member)
    # given: a device last heard from an hour ago
    an_hour_ago = timezone.now() - timedelta(hours=1)
    AccessDevice.objects.unscoped().filter(pk=device.pk).update(last_seen_at=an_hour_ago)

    # when: it calls
    _client(key).post(URL, {"credential": card.number}, format="json")

    # then: "last seen" is now
    seen = AccessDevice.objects.unscoped().get(pk=device.pk).last_seen_at
    assert timezone.now() - seen < timedelta(seconds=30)

    # and a second call within the minute does not write (the UPDATE's condition)
    services.device_touch(device=AccessDevice(pk=device.pk), at=seen + timedelta(seconds=20))
    assert AccessDevice.objects.unscoped().get(pk=device.pk).last_seen_at == seen
    services.device_touch(device=AccessDevice(pk=device.pk), at=seen + timedelta(seconds=61))
    assert AccessDevice.objects.unscoped().get(pk=device.pk).last_seen_at > seen
