"""Member pages and API: my entry code (rotating QR) and my visits."""

import pytest

from access import credentials as creds
from access.models import Credential
from access.tests.factories import AccessLogFactory

pytestmark = pytest.mark.django_db


def test_my_code_page_shows_an_inline_svg_qr(client_for, member):
    response = client_for(member.user).get("/access/my-code/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    assert "access/my_code.js" in body
    assert "cdn" not in body.lower()
    qr = response.context["qr"]
    parsed = creds.qr_parse(qr["payload"])
    credential = Credential.objects.unscoped().get(member=member, kind="qr")
    assert parsed.credential_id == credential.pk
    assert creds.qr_signature_valid(parsed=parsed, secret=credential.secret)


def test_code_fragment_is_fresh_and_not_cached(client_for, member):
    response = client_for(member.user).get("/access/my-code/current/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "<svg" in response.content.decode()


def test_one_qr_credential_per_member_however_often_asked(client_for, member):
    client = client_for(member.user)
    client.get("/access/my-code/")
    client.get("/access/my-code/")
    assert Credential.objects.unscoped().filter(member=member, kind="qr").count() == 1


def test_my_visits_lists_only_my_granted_entries(client_for, member, branch):
    mine = AccessLogFactory(member=member, branch=branch)
    AccessLogFactory(member=member, branch=branch, result="denied", reason="frozen")
    AccessLogFactory(branch=branch)  # someone else's
    response = client_for(member.user).get("/access/visits/")
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [mine]


def test_my_visits_api(api_client, member, branch):
    AccessLogFactory(member=member, branch=branch)
    api_client.force_authenticate(member.user)
    body = api_client.get("/api/v1/access/me/visits").json()
    assert body["count"] == 1
    assert body["results"][0]["branch"] == branch.name


def test_my_qr_api(api_client, member):
    api_client.force_authenticate(member.user)
    body = api_client.get("/api/v1/access/me/qr").json()
    assert body["payload"].startswith("SPQ1.")
    assert body["svg"].startswith("<svg")
    assert body["refresh_seconds"] == creds.QR_WINDOW_SECONDS


def test_non_member_gets_403_from_the_api(api_client, owner):
    api_client.force_authenticate(owner)
    assert api_client.get("/api/v1/access/me/qr").status_code == 403


def test_renewing_my_code_kills_the_old_one(client_for, member):
    client = client_for(member.user)
    old = creds.qr_parse(client.get("/access/my-code/").context["qr"]["payload"])
    response = client.post("/access/my-code/renew/")
    assert response.status_code == 302
    new = creds.qr_parse(client.get("/access/my-code/").context["qr"]["payload"])
    assert new.credential_id != old.credential_id
    assert Credential.objects.unscoped().get(pk=old.credential_id).status == "revoked"
