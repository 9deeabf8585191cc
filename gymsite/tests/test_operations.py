"""Health endpoint and production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]

# The variables a production deployment sets (documented in the README).
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#k2!production-like-secret-key-with-enough-entropy-0123456789abcdef",
    "ALLOWED_HOSTS": "gym.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://gym.example.com",
    "SITE_URL": "https://gym.example.com",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_deploy_check_passes_with_production_settings():
    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {**os.environ, **PRODUCTION_ENV, "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_cache_and_broker(client):
    # Each part down, for real, is in test_degrade.py.
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}
