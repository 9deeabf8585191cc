"""Content Security Policy, Permissions-Policy, and the API docs behind staff login."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import DEFAULT_PASSWORD, RoleAssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)


def test_pages_allow_only_our_own_scripts_and_styles(client, gym):
    # when a public page is fetched
    response = client.get(reverse("account_login"), HTTP_HOST="gym-a.test")

    # then scripts and styles come from our origin only, nothing inline, no framing
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_permissions_policy_keeps_the_camera_and_location_for_our_pages(client, gym):
    response = client.get(reverse("account_login"), HTTP_HOST="gym-a.test")

    features = dict(
        item.strip().split("=", 1) for item in response.headers["Permissions-Policy"].split(",")
    )
    # the desk's QR scanner and the branch finder, same origin only
    assert features["camera"] == "(self)"
    assert features["geolocation"] == "(self)"
    assert features["microphone"] == "()"
    assert features["payment"] == "()"


def test_an_inline_style_runs_with_the_nonce_of_its_response(client_for, front_desk, branch):
    # given the front desk, whose page has its own inline style
    client = client_for(front_desk)

    # when the desk is opened twice
    first = client.get(reverse("access:desk"))
    second = client.get(reverse("access:desk"))

    # then each response names a fresh nonce in its policy and on the style element
    assert first.status_code == 200
    nonce = _nonce(first)
    assert f"'nonce-{nonce}'" in _policy(first)["style-src"]
    assert f'<style nonce="{nonce}">' in first.content.decode()
    assert _nonce(second) != nonce
    # and the branch switch is wired from a static file, not an inline handler
    assert "onchange" not in first.content.decode()
    assert "data-autosubmit" in first.content.decode()


def test_the_swagger_page_runs_its_inline_script_with_the_nonce(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    nonce = _nonce(response)
    assert f"'nonce-{nonce}'" in _policy(response)["script-src"]
    html = response.content.decode()
    assert f'<script nonce="{nonce}">' in html
    assert f'<style nonce="{nonce}">' in html
    # every other script is a file of ours (drf-spectacular-sidecar), not a CDN
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources
    assert all(src.startswith(settings.STATIC_URL) for src in sources)


def test_the_admin_policy_allows_alpine_but_still_no_inline_script(client_for, owner):
    response = client_for(owner).get(reverse("admin:index"))

    assert response.status_code == 200
    policy = _policy(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" in policy["script-src"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


def test_no_template_of_ours_has_inline_code_without_a_nonce():
    """Inline handlers and javascript: links cannot carry a nonce: they must not exist;
    an inline <script> or <style> must carry the request's nonce. (Emails are not pages:
    mail clients read only inline styles, and no policy of ours applies there.)"""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if path.is_relative_to(ROOT / "templates" / "emails"):
            continue
        text = path.read_text()
        name = path.relative_to(ROOT)
        for match in re.finditer(r"<(script|style)\b([^>]*)>", text):
            tag, attributes = match.groups()
            if "src=" in attributes or 'type="application/json"' in attributes:
                continue
            if 'nonce="{{ request.csp_nonce }}"' not in attributes:
                offenders.append(f"{name}: <{tag}{attributes}>")
        offenders += [f"{name}: {m}" for m in re.findall(r"\son[a-z]+=\"", text)]
        offenders += [f"{name}: {m}" for m in re.findall(r"javascript:", text)]
        offenders += [f"{name}: {m}" for m in re.findall(r"\sstyle=\"", text)]
    assert offenders == []


# --- API schema and docs: public in development, staff only in production -------


def _jwt(api_client, user) -> str:
    response = api_client.post(
        reverse("api-token"), {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


def test_docs_are_public_when_the_setting_says_so(client, settings):
    settings.API_DOCS_PUBLIC = True

    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(reverse("api-docs")).status_code == 200


def test_docs_need_a_signed_in_person_in_production(client, gym, settings):
    settings.API_DOCS_PUBLIC = False

    # the page sends a browser to sign in and back; the schema answers 401
    docs = client.get(reverse("api-docs"), HTTP_HOST="gym-a.test")
    assert docs.status_code == 302
    assert docs.headers["Location"] == f"{reverse('account_login')}?next=/api/v1/docs"
    schema = client.get(reverse("api-schema"), HTTP_HOST="gym-a.test")
    assert schema.status_code == 401
    # (in the standard error format, rendered as the schema's YAML)
    assert b"code: not_authenticated" in schema.content


def test_docs_are_for_staff_by_session_in_production(client_for, owner, member, settings):
    settings.API_DOCS_PUBLIC = False

    client = client_for(member.user)
    assert client.get(reverse("api-docs")).status_code == 403
    assert client.get(reverse("api-schema")).status_code == 403

    client = client_for(owner)
    assert client.get(reverse("api-docs")).status_code == 200
    assert client.get(reverse("api-schema")).status_code == 200


def test_docs_are_for_staff_by_token_in_production(api_client, front_desk, member, settings):
    settings.API_DOCS_PUBLIC = False

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_jwt(api_client, member.user)}")
    assert api_client.get(reverse("api-schema")).status_code == 403

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {_jwt(api_client, front_desk)}")
    response = api_client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/me" in response.json()["paths"]


def test_staff_of_another_gym_do_not_read_this_gyms_docs(client_for, gym, other_gym, settings):
    settings.API_DOCS_PUBLIC = False
    stranger = UserFactory(email="owner@gym-b.test")
    RoleAssignmentFactory(user=stranger, organisation=other_gym, branch=None, role=Role.OWNER)

    client = client_for(stranger, host="gym-a.test")

    assert client.get(reverse("api-schema")).status_code == 403
