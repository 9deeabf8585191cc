"""Production as the README starts it: `scripts/serve` (collectstatic, migrate,
gunicorn with gymsite/gunicorn.conf.py) with production settings, answering real
HTTP on a free port."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from accounts.tests.factories import DEFAULT_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
HOST = "gym-a.test"
SECRET = "x7#k2!production-like-secret-key-with-enough-entropy-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


class Browser:
    """HTTP/1.1 through a TLS-terminating proxy (X-Forwarded-Proto: https), with a
    cookie jar that keeps Secure cookies (the proxy's client saw https)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, *, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for raw in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return response, content

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)


def _password_the_server_knows(*users):
    """The suite hashes with MD5 for speed, which production does not accept: give these
    users a PBKDF2 hash (few rounds; the server upgrades it at sign-in)."""
    for user in users:
        user.password = PBKDF2PasswordHasher().encode(DEFAULT_PASSWORD, "servetest", 1000)
        user.save(update_fields=["password"])


@pytest.fixture
def server(tmp_path):
    """scripts/serve with the README's production variables, until the test ends."""
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}",
        "SITE_URL": f"https://{HOST}",
        "EMAIL_URL": "locmem://",
        "DATABASE_URL": _test_database_url(),
        # This interpreter's environment: nothing to install.
        "VIRTUAL_ENV": sys.prefix,
        "STATIC_ROOT": str(tmp_path / "static"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(  # noqa: S603 (our own script)
        [str(ROOT / "scripts" / "serve")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_up(process, port)
        yield Browser(port), process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process, port):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"scripts/serve exited with {process.returncode}:\n{out}\n{err}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": HOST})
            if conn.getresponse().status in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail("scripts/serve did not answer within 90 s")


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.django_db(transaction=True)
def test_serve_starts_production_and_serves_pages_static_files_and_staff_docs(
    server, gym, branch, owner, member
):
    browser, process = server
    _password_the_server_knows(owner, member.user)

    # given the README's production settings behind a TLS proxy
    # when the public pages are fetched
    for path in ("/", "/accounts/login/"):
        response, body = browser.get(path)
        assert response.status == 200, (path, body[:500])
        policy = _csp(response)
        assert policy["script-src"][0] == "'self'"
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
        assert "camera=(self)" in response.headers["Permissions-Policy"]
        assert "max-age=" in response.headers["Strict-Transport-Security"]

    # then the hashed static files they link are served (collectstatic ran)
    stylesheet = re.search(rb'href="(/static/css/spotter\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:800]
    response, css = browser.get(stylesheet.group(1).decode())
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/css")
    assert "immutable" in response.headers["Cache-Control"]
    assert css

    # the admin's sign-in hands over to the one login page
    response, _ = browser.get("/admin/login/")
    assert response.status == 302
    assert response.headers["Location"].startswith("/accounts/login/")

    # the API docs and schema are for staff only in production
    response, _ = browser.get("/api/v1/docs")
    assert response.status == 302
    assert response.headers["Location"] == "/accounts/login/?next=/api/v1/docs"
    response, _ = browser.get("/api/v1/schema")
    assert response.status == 401

    # a member's token is refused, a staff member's token reads the schema
    def token_for(email):
        response, body = browser.request(
            "POST",
            "/api/v1/auth/token",
            body=json.dumps({"email": email, "password": DEFAULT_PASSWORD}),
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 200, body
        return json.loads(body)["access"]

    response, _ = browser.get(
        "/api/v1/schema", headers={"Authorization": f"Bearer {token_for(member.user.email)}"}
    )
    assert response.status == 403
    response, schema = browser.get(
        "/api/v1/schema?format=json",
        headers={"Authorization": f"Bearer {token_for(owner.email)}"},
    )
    assert response.status == 200
    assert json.loads(schema)["openapi"].startswith("3.")

    # a staff member signed in with a session gets the Swagger UI page
    response, page = browser.get("/accounts/login/?next=/api/v1/docs")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    response, body = browser.request(
        "POST",
        "/accounts/login/?next=/api/v1/docs",
        body=f"login={owner.email}&password={DEFAULT_PASSWORD}&csrfmiddlewaretoken={csrf}"
        "&next=/api/v1/docs",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/accounts/login/",
        },
    )
    assert response.status == 302, body[:800]
    assert response.headers["Location"] == "/api/v1/docs"
    response, docs = browser.get("/api/v1/docs")
    assert response.status == 200
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert f"'nonce-{nonce}'" in _csp(response)["script-src"]
    # its inline style and script carry this response's nonce; its files are ours
    assert docs.count(f'nonce="{nonce}"'.encode()) == 2
    bundle = re.search(rb'src="(/static/drf_spectacular_sidecar/[^"]+bundle[^"]*\.js)"', docs)
    assert bundle, docs[:800]
    assert browser.get(bundle.group(1).decode())[0].status == 200
    response, _ = browser.get("/api/v1/schema")
    assert response.status == 200

    # and the signed-in staff member reaches the back office under its own policy
    response, _ = browser.get("/admin/")
    assert response.status == 200
    policy = _csp(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" in policy["script-src"]

    # stopping: a graceful shutdown, and every access log line was one JSON object
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err[-2000:]
    access = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert access
    assert all(entry["logger"] == "gunicorn.access" for entry in access)
    assert any(e["path"] == "/api/v1/docs" and e["status"] == 302 for e in access)
    assert any(e["path"] == "/api/v1/schema" and e["status"] == 200 for e in access)
    errors = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("Booting worker" in entry["message"] for entry in errors)


def test_serve_refuses_production_without_a_database_url(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET,
        "VIRTUAL_ENV": sys.prefix,
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 (our own script)
        [str(ROOT / "scripts" / "serve")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL must be set when DEBUG is false" in result.stderr
    assert "embedded" not in result.stdout
