"""allauth's emails name the gym, and the demo's printed addresses follow its port."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_sign_up_confirmation_email_names_the_gym(
    client, branch, settings, django_capture_on_commit_callbacks
):
    # given: a gym whose email verification is on
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    client.defaults["HTTP_HOST"] = "gym-a.test"

    # when: a newcomer signs up
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "new@example.com",
                "password1": "a-Long-pass-phrase-1",
                "password2": "a-Long-pass-phrase-1",
            },
        )

    # then: the confirmation greets them from the gym, by name, in body and subject
    assert response.status_code == 302
    confirmation = next(m for m in mail.outbox if "new@example.com" in m.to)
    assert confirmation.subject.startswith("[Gym A] ")
    assert "Hello from Gym A!" in confirmation.body
    assert "Hello from !" not in confirmation.body
    assert "http://gym-a.test/" in confirmation.body


def test_demo_logins_print_the_site_url(settings, capsys):
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("demo_logins")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/admin/" in out
    assert ":8000" not in out


def test_scripts_run_derives_site_url_from_port(tmp_path):
    # given: scripts/run's own line, run by bash with PORT set and SITE_URL unset
    run = Path(__file__).resolve().parents[2] / "scripts" / "run"
    line = next(x for x in run.read_text().splitlines() if x.startswith("export SITE_URL="))
    env = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST")}
    env["PORT"] = "8123"

    def site_url():
        script = f'{line}; echo "$SITE_URL"'
        bash = shutil.which("bash")
        return subprocess.run(  # noqa: S603 (our own script's line)
            [bash, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    # when / then: the port decides, and an explicit SITE_URL still wins
    assert site_url() == "http://127.0.0.1:8123"
    env["SITE_URL"] = "https://gym.example.com"
    assert site_url() == "https://gym.example.com"
