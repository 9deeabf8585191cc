"""Back office: devices with keys shown once, rotate/revoke, credentials, the log."""

import re

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from access.models import AccessDevice, AccessLog, Credential
from access.tests.factories import AccessLogFactory, CredentialFactory, device_with_key
from accounts.models import AuditLog

pytestmark = pytest.mark.django_db


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _key_in(messages_):
    for text in messages_:
        found = re.search(r"(spd_[0-9a-f]{12}_\S+)", text)
        if found:
            return found.group(1)
    return None


def _device_works(key):
    client = APIClient(HTTP_HOST="gym-a.test")
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client.post("/api/v1/access/checkin", {"credential": "X"}, format="json").status_code


def test_adding_a_device_shows_its_key_once_and_stores_a_hash(client_for, manager, branch):
    # when
    response = client_for(manager).post(
        "/admin/access/accessdevice/add/",
        {"branch": branch.pk, "name": "Main door", "kind": "door", "direction": "in"},
        follow=True,
    )
    # then
    assert response.status_code == 200
    key = _key_in(_messages(response))
    assert key
    device = AccessDevice.objects.unscoped().get(name="Main door")
    assert key not in (device.key_hash, device.key_prefix)
    assert _device_works(key) == 200
    assert AuditLog.objects.unscoped().filter(action="access.device_register").exists()


def test_rotate_and_revoke_actions(client_for, manager, branch):
    device, old_key = device_with_key(branch)
    client = client_for(manager)
    response = client.post(
        "/admin/access/accessdevice/",
        {"action": "rotate_keys", "_selected_action": [device.pk]},
        follow=True,
    )
    new_key = _key_in(_messages(response))
    assert _device_works(old_key) == 401
    assert _device_works(new_key) == 200
    client.post(
        "/admin/access/accessdevice/", {"action": "revoke", "_selected_action": [device.pk]}
    )
    assert _device_works(new_key) == 403


def test_registering_a_card_twice_is_a_form_error(client_for, manager, member):
    CredentialFactory(member=member, number="CARD77")
    response = client_for(manager).post(
        "/admin/access/credential/add/", {"member": member.pk, "number": "card 77", "label": ""}
    )
    assert response.status_code == 200
    assert "number" in response.context["adminform"].form.errors
    response = client_for(manager).post(
        "/admin/access/credential/add/", {"member": member.pk, "number": "card 78", "label": ""}
    )
    assert response.status_code == 302
    assert Credential.objects.unscoped().filter(number="CARD78").exists()


def test_access_log_list_filters_and_alerts(client_for, manager, branch, member):
    for _ in range(3):
        AccessLogFactory(branch=branch, member=member, result="denied", reason="past_due")
    AccessLogFactory(branch=branch, member=member)
    client = client_for(manager)
    response = client.get("/admin/access/accesslog/")
    assert response.status_code == 200
    assert any("refused 3 times" in m for m in _messages(response))
    denied = client.get("/admin/access/accesslog/", {"alert": "repeated"})
    assert denied.context["cl"].result_count == 3
    granted = client.get("/admin/access/accesslog/", {"result__exact": "granted"})
    assert granted.context["cl"].result_count == 1


def test_access_log_is_read_only(client_for, manager, branch):
    log = AccessLogFactory(branch=branch)
    client = client_for(manager)
    assert client.get("/admin/access/accesslog/add/").status_code == 403
    client.post(f"/admin/access/accesslog/{log.pk}/delete/", {"post": "yes"})
    assert AccessLog.objects.unscoped().filter(pk=log.pk).exists()


def test_branch_manager_sees_only_their_branches_log(client_for, manager, branch, other_branch):
    AccessLogFactory(branch=branch)
    AccessLogFactory(branch=other_branch)
    response = client_for(manager).get("/admin/access/accesslog/")
    assert {log.branch_id for log in response.context["cl"].result_list} == {branch.pk}
