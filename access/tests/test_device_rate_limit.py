"""Devices are rate limited per device and per source address, fail open when the
limiter's cache is down, and a flood of invalid keys or unknown credentials is
flagged to staff."""

import os

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from access import services
from access.models import AccessDevice
from access.tests.factories import CredentialFactory, device_with_key
from accounts.models import AuditLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/checkin"


def _door(key, address="10.0.0.1"):
    client = APIClient(HTTP_HOST="gym-a.test", REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def _checkin(client, credential):
    return client.post(URL, {"credential": credential}, format="json")


@pytest.fixture
def limits(settings):
    settings.ACCESS_THROTTLE_DEVICE = "off"
    settings.ACCESS_THROTTLE_ADDRESS = "off"
    settings.ACCESS_FLAG_FAILURES = "off"
    return settings


@pytest.fixture
def card(active_member):
    return CredentialFactory(member=active_member)


@pytest.fixture
def redis_limiter(settings):
    """The limiter on the real Redis of REDIS_URL (the pipelined path)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set")
    settings.CACHES = {
        **settings.CACHES,
        "limiter": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url},
    }
    settings.ACCESS_RATELIMIT_CACHE = "limiter"
    caches["limiter"].clear()
    yield
    caches["limiter"].clear()


@pytest.mark.parametrize("store", ["locmem", "redis"])
def test_a_device_over_its_rate_gets_429_and_another_device_does_not(
    request, limits, branch, card, store
):
    if store == "redis":
        request.getfixturevalue("redis_limiter")
    # given: three check-ins a minute per device
    limits.ACCESS_THROTTLE_DEVICE = "3/minute"
    _, key = device_with_key(branch)
    _, other_key = device_with_key(branch)
    door = _door(key)
    # when
    statuses = [_checkin(door, card.number).status_code for _ in range(5)]
    # then
    assert statuses == [200, 200, 200, 429, 429]
    assert "Retry-After" in _checkin(door, card.number)
    assert _checkin(door, card.number).json()["code"] == "throttled"
    assert _checkin(_door(other_key), card.number).status_code == 200


def test_an_address_over_its_rate_gets_429_whichever_device(limits, branch, card):
    limits.ACCESS_THROTTLE_ADDRESS = "4/minute"
    keys = [device_with_key(branch)[1] for _ in range(3)]
    statuses = [_checkin(_door(keys[i % 3]), card.number).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    # another address is not affected
    assert _checkin(_door(keys[0], address="10.0.0.2"), card.number).status_code == 200


def test_wrong_keys_count_against_the_address(limits, branch, card):
    limits.ACCESS_THROTTLE_ADDRESS = "3/minute"
    statuses = [_checkin(_door("spd_000000000000_nope"), "x").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def test_a_flood_of_wrong_secrets_for_a_device_flags_it_once(limits, branch, card):
    # given: someone holding a device's prefix but not its secret
    limits.ACCESS_FLAG_FAILURES = "5/minute"
    device, key = device_with_key(branch)
    prefix = key.rsplit("_", 1)[0]
    # when
    for _ in range(12):
        assert _checkin(_door(f"{prefix}_wrongsecret"), "x").status_code == 401
    # then: flagged, with one audit entry staff can see
    device.refresh_from_db()
    assert device.flagged_at is not None
    assert "invalid keys" in device.flag_reason
    entries = AuditLog.objects.unscoped().filter(action="access.device_flagged")
    assert entries.count() == 1
    assert entries.get().data["address"] == "10.0.0.1"
    # and the device itself still opens the door for a valid member
    assert _checkin(_door(key, address="10.0.0.9"), card.number).json()["result"] == "granted"


def test_an_address_flooding_with_garbage_keys_is_flagged_to_the_hosts_gym(limits, gym):
    limits.ACCESS_FLAG_FAILURES = "5/minute"
    for _ in range(12):
        assert _checkin(_door("garbage", address="203.0.113.7"), "x").status_code == 401
    entries = AuditLog.objects.unscoped().filter(action="access.address_flagged")
    assert entries.count() == 1
    assert entries.get().organisation_id == gym.pk
    assert entries.get().data == {"address": "203.0.113.7", "failures": 6}


def test_a_flood_of_unknown_credentials_flags_the_device(limits, device_and_key, card):
    limits.ACCESS_FLAG_FAILURES = "5/minute"
    device, key = device_and_key
    door = _door(key)
    for i in range(8):
        assert _checkin(door, f"NOPE-{i}").json()["reason"] == "unknown_credential"
    device.refresh_from_db()
    assert "unknown credentials" in device.flag_reason
    assert AuditLog.objects.unscoped().filter(action="access.device_flagged").count() == 1
    # the flag is for staff: the door keeps working
    assert _checkin(door, card.number).json()["result"] == "granted"


def test_staff_see_and_clear_the_flag_in_the_admin(limits, client_for, owner, device_and_key):
    device, _ = device_and_key
    services.device_flag(device=device, reason="20 invalid keys", data={})
    page = client_for(owner)
    listing = page.get("/admin/access/accessdevice/?flagged=yes")
    assert listing.status_code == 200
    assert "20 invalid keys" in listing.content.decode()
    response = page.post(
        "/admin/access/accessdevice/",
        {"action": "clear_flag", "_selected_action": [device.pk]},
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.flagged_at is None
    assert AuditLog.objects.unscoped().filter(action="access.device_flag_cleared").count() == 1


def test_the_limiter_fails_open_when_its_cache_is_down(settings, branch, card, caplog):
    # given: the limiter's store on a closed port, and tight limits
    settings.CACHES = {
        **settings.CACHES,
        "limiter": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    settings.ACCESS_RATELIMIT_CACHE = "limiter"
    settings.ACCESS_THROTTLE_DEVICE = "1/minute"
    settings.ACCESS_THROTTLE_ADDRESS = "1/minute"
    settings.ACCESS_FLAG_FAILURES = "1/minute"
    device, key = device_with_key(branch)
    # when / then: every valid member still gets in, and it is logged
    for _ in range(3):
        response = _checkin(_door(key), card.number)
        assert response.status_code == 200
        assert response.json()["result"] == "granted"
    assert "failing open" in caplog.text
    # wrong keys are still refused (the key check is in the database), nothing flagged
    for _ in range(3):
        assert _checkin(_door(key + "x"), "x").status_code == 401
    device.refresh_from_db()
    assert device.flagged_at is None
    assert AccessDevice.objects.unscoped().filter(flagged_at__isnull=False).count() == 0
