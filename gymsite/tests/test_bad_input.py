"""No 500 for anything a client can send: bodies that are not objects, nesting that
blows the parser's stack, NUL bytes, lone surrogates, values longer than a column.

The API walk takes every write endpoint from the OpenAPI schema, so a new endpoint
is covered the day it is added.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from access.api.serializers import CheckinInputSerializer
from access.tests.factories import device_with_key
from accounts.tests.factories import DEFAULT_PASSWORD
from gymsite.api.errors import exception_handler
from gymsite.api.parsers import MAX_DEPTH, json_object_loads

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/token"

NOT_OBJECTS = ["[]", '"x"', "1", "null", "true", "[{}]"]
DEEP = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5_000 + "1" + "}" * 5_000,
    '{"items": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}",
]


def _bad_bodies(field: str) -> list[bytes]:
    """Bodies each endpoint must refuse with a 400, with ``field`` carrying bad text."""
    texts = [
        *NOT_OBJECTS,
        *DEEP,
        json.dumps({field: "a\u0000b"}),
        json.dumps({field: "\ud800"}),
        json.dumps({field: ["ok", {"deeper": "x\udfff"}]}),
        json.dumps({"a\u0000": "key with a NUL"}),
        '{"' + field + '": "\\ud800"}',
    ]
    raw = [text.encode("utf-8", "surrogatepass") for text in texts]
    # Not JSON at all: a raw NUL byte, invalid UTF-8, raw surrogate bytes, garbage.
    raw += [b'{"' + field.encode() + b'": "a\x00b"}', b'{"a": "\xff"}', b'{"a": "\xed\xa0\x80"}']
    raw += [b"{", b"NaN", b'{"a": NaN}']
    return raw


def _assert_standard_400(response, context=""):
    assert response.status_code == 400, (context, response.status_code, response.content[:300])
    body = response.json()
    assert {"code", "detail"} <= set(body), body
    if body["code"] == "validation_error":
        assert isinstance(body["fields"], dict), body


def _row_counts() -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        manager = model._default_manager
        queryset = manager.unscoped() if hasattr(manager, "unscoped") else manager.all()
        counts[model._meta.label] = queryset.count()
    return counts


# --- the parser itself -------------------------------------------------------------


def test_the_depth_is_checked_without_recursion():
    # given: a body far deeper than Python's recursion limit
    body = ("[" * 1_000_000 + "]" * 1_000_000).encode()
    # then: refused before json.loads ever sees it
    with pytest.raises(exceptions.ValidationError):
        json_object_loads(body)


def test_brackets_inside_strings_are_not_nesting():
    body = json.dumps({"note": "[" * 500 + "{" * 500}).encode()
    assert json_object_loads(body) == {"note": "[" * 500 + "{" * 500}


def test_nesting_up_to_the_limit_parses():
    body = ('{"a":' * (MAX_DEPTH - 1) + "{}" + "}" * (MAX_DEPTH - 1)).encode()
    assert isinstance(json_object_loads(body), dict)


def test_valid_surrogate_pairs_and_escapes_are_fine():
    assert json_object_loads(b'{"name": "\\ud83d\\ude00 \\u00e9"}') == {"name": "\U0001f600 é"}


# --- login ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", NOT_OBJECTS + DEEP)
def test_login_refuses_a_body_that_is_not_an_object(api_client, body):
    response = api_client.post(LOGIN, body, content_type="application/json")
    _assert_standard_400(response, body[:20])


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a\\u0000@gym-a.test", "password": "x"}',
        '{"email": "member@gym-a.test", "password": "x\\u0000"}',
        '{"email": "\\ud800", "password": "x"}',
        '{"email": "member@gym-a.test", "password": "\\udfff"}',
        b'{"email": "a\x00@gym-a.test", "password": "x"}',
    ],
)
def test_login_refuses_nul_and_lone_surrogates(api_client, member, body):
    response = api_client.post(LOGIN, body, content_type="application/json")
    _assert_standard_400(response)
    assert "access" not in response.json()


def test_login_refuses_a_100000_character_email_as_a_field_error(api_client):
    response = api_client.post(
        LOGIN, {"email": "a" * 100_000 + "@gym-a.test", "password": "x"}, format="json"
    )
    _assert_standard_400(response)
    assert "email" in response.json()["fields"]


def test_login_still_works(api_client, member):
    response = api_client.post(
        LOGIN, {"email": member.user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert "access" in response.json()


def test_a_choice_error_echoing_a_lone_surrogate_renders():
    # given: a choice field refusing a value that carries a lone surrogate (the
    # parser refuses such a body; the error format must survive one anyway)
    serializer = CheckinInputSerializer(data={"credential": "CARD", "direction": "\ud800"})
    assert not serializer.is_valid()
    # when
    response = exception_handler(exceptions.ValidationError(serializer.errors), {})
    # then
    rendered = json.loads(JSONRenderer().render(response.data))
    assert response.status_code == 400
    assert "\\ud800" in rendered["fields"]["direction"][0]


# --- every API write endpoint --------------------------------------------------------


def _write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    for path, item in schema["paths"].items():
        for method in ("post", "put", "patch"):
            operation = item.get(method)
            if operation is None:
                continue
            fields = ["x"]
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                fields = list(properties) or fields
            schemes = {name for entry in operation.get("security", []) for name in entry}
            yield path, method, fields, schemes


def test_the_walk_finds_the_write_endpoints():
    found = {(path, method) for path, method, _, _ in _write_operations()}
    assert ("/api/v1/auth/token", "post") in found
    assert ("/api/v1/access/checkin", "post") in found
    assert ("/api/v1/me", "patch") in found
    assert len(found) >= 15


@pytest.fixture
def callers(gym, branch, member, owner):
    def jwt(user):
        client = APIClient(HTTP_HOST="gym-a.test")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
        return client

    device_client = APIClient(HTTP_HOST="gym-a.test")
    device_client.credentials(HTTP_AUTHORIZATION=f"Device {device_with_key(branch)[1]}")
    return {"member": jwt(member.user), "staff": jwt(owner), "device": device_client}


def _callers_for(schemes, callers):
    if schemes == {"deviceKey"}:
        return [callers["device"]]
    return [callers["member"], callers["staff"]]


def test_every_write_endpoint_refuses_bad_bodies_with_a_400_and_changes_nothing(callers):
    # given: the database as it is
    before = _row_counts()
    seen = 0
    # when: every bad body goes to every write endpoint, with a valid token
    for path, method, fields, schemes in _write_operations():
        url = path.replace("{id}", "1").replace("{pk}", "1").replace("{slug}", "gym-a")
        for client in _callers_for(schemes, callers):
            for field in fields:
                for body in _bad_bodies(field):
                    response = getattr(client, method)(url, body, content_type="application/json")
                    # then: the standard 400, whatever the endpoint does with a body
                    _assert_standard_400(response, f"{method} {url} {body[:40]!r}")
                    seen += 1
    assert seen > 300
    # and nothing was written
    assert _row_counts() == before


def test_every_endpoint_refuses_nul_in_the_query_string(callers):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        url = path.replace("{id}", "1").replace("{pk}", "1").replace("{slug}", "gym-a")
        for method in item:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            response = getattr(callers["staff"], method)(f"{url}?q=a%00b&status=%00")
            _assert_standard_400(response, f"{method} {url}")


def test_long_values_on_every_write_endpoint_are_never_a_500(callers):
    for path, method, fields, schemes in _write_operations():
        url = path.replace("{id}", "1").replace("{pk}", "1").replace("{slug}", "gym-a")
        for client in _callers_for(schemes, callers):
            body = dict.fromkeys(fields, "x" * 100000)
            response = getattr(client, method)(url, body, format="json")
            assert response.status_code < 500, (method, url, response.content[:300])


# --- pages: login, desk, portal ------------------------------------------------------


def test_login_form_refuses_nul_bytes(client, member):
    response = client.post(
        reverse("account_login"), {"login": "member@gym-a.test\x00", "password": "x"}
    )
    assert response.status_code == 400


def test_login_form_with_a_100000_character_email_is_a_form_error(client, gym):
    response = client.post(
        reverse("account_login"),
        {"login": "a" * 100_000 + "@gym-a.test", "password": "x"},
        HTTP_HOST="gym-a.test",
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_desk_search_refuses_nul_bytes(client_for, front_desk, branch):
    desk = client_for(front_desk)
    assert desk.get(reverse("access:desk"), {"q": "ann\x00"}).status_code == 400
    assert desk.post(reverse("access:desk"), {"q": "CARD\x00"}).status_code == 400
    # and an ordinary search still answers
    assert desk.get(reverse("access:desk"), {"q": "ann"}).status_code == 200


def test_desk_search_with_a_long_query_is_not_a_500(client_for, front_desk, branch):
    desk = client_for(front_desk)
    assert desk.get(reverse("access:desk"), {"q": "a" * 100_000}).status_code == 200


def test_portal_profile_form_refuses_nul_and_long_values(client_for, member):
    page = client_for(member.user)
    url = reverse("portal:profile")
    assert page.post(url, {"first_name": "Ann\x00", "last_name": "Lee"}).status_code == 400
    response = page.post(url, {"first_name": "A" * 100_000, "last_name": "Lee"})
    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors


def test_a_malformed_multipart_form_is_a_400(client, member):
    response = client.post(
        reverse("account_login"),
        data=b"--x\r\nContent-Disposition: form-data\r\n\r\nbroken",
        content_type="multipart/form-data",  # no boundary
    )
    assert response.status_code == 400
