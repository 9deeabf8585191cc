"""Browser journeys: Playwright for Python driving Debian's Chromium against a live server.

Fixtures (registered by the root conftest.py):

- ``journey`` — parametrised over the phone (390 by 844) and desktop (1280 by 800) sizes; a
  ``Journey`` with a fresh page on gym A's host, serving the test database.
- ``Journey.sign_in(user)`` puts a signed-in session cookie in the browser (the login
  form itself is exercised by its own journey), ``go(path)`` opens a page and checks
  it, ``shot(step)`` writes a screenshot under ``BROWSER_SCREENSHOTS`` (default
  ``artifacts/browser/``) named after the test, the size and the step.
- Every page ``go`` opens is checked with axe-core: no serious or critical violation,
  and no sideways scrolling at the phone size.

Chromium is never downloaded: the system binary (``CHROMIUM``, default
``/usr/bin/chromium``) is launched. Without it the tests are skipped, unless
``BROWSER_TESTS=required`` (CI), where a missing browser fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "artifacts/browser"))
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
# The flags Chromium needs on a machine with a closed network, run as root.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Gyms are told apart by host name: every *.test host is this machine.
    "--host-resolver-rules=MAP *.test 127.0.0.1",
]
BLOCKING_IMPACTS = {"serious", "critical"}


def chromium_available() -> bool:
    return bool(shutil.which(CHROMIUM) or Path(CHROMIUM).exists())


def require_chromium():
    if chromium_available():
        return
    if os.environ.get("BROWSER_TESTS") == "required":
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    pytest.skip(f"Chromium not found at {CHROMIUM}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


@dataclass
class Journey:
    page: object
    base_url: str
    size: str
    name: str
    steps: int = 0
    checked: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return SCREENSHOTS / _slug(self.name)

    def url(self, path: str) -> str:
        return self.base_url + path

    def sign_in(self, user) -> None:
        """Give the browser a signed-in session for ``user`` (no form round trip)."""
        from django.conf import settings
        from django.test import Client

        from conftest import LOGIN_BACKEND

        client = Client()
        client.force_login(user, backend=LOGIN_BACKEND)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": self.base_url}]
        )

    def go(self, path: str, *, check: bool = True):
        response = self.page.goto(self.url(path))
        assert response is not None and response.status < 500, f"{path}: {response}"
        if check:
            self.check()
        return response

    def check(self) -> None:
        """The page as it stands: accessible, and no sideways scrolling on a phone."""
        self.assert_accessible()
        if self.size == "phone":
            self.assert_no_sideways_scroll()

    def assert_accessible(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        blocking = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} — "
            + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
            for violation in results.response["violations"]
            if violation.get("impact") in BLOCKING_IMPACTS
        ]
        self.checked.append(self.page.url)
        assert not blocking, f"{self.page.url} has accessibility violations:\n" + "\n".join(
            blocking
        )

    def assert_no_sideways_scroll(self) -> None:
        widths = self.page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert widths[0] <= widths[1], f"{self.page.url} scrolls sideways: {widths}"

    def shot(self, step: str) -> Path:
        self.steps += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.steps:02d}-{_slug(step)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
