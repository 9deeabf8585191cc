"""Redis (cache and broker) or the database down: the site degrades, it does not fall over.

"Down" is a real closed port on 127.0.0.1, reached with the real client libraries
(redis-py for the cache, kombu for the broker, psycopg for the database).
"""

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from gymsite import outbox
from gymsite.celery import app as celery_app
from gymsite.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgres://postgres@127.0.0.1:1/spotter"


def _reset_broker_connections():
    from kombu import pools

    pools.reset()
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture
def cache_down(settings):
    """The cache backend production uses, pointed at a port where nothing listens."""
    settings.CACHES = {
        "default": {
            **settings.REDIS_CACHE,
            "LOCATION": DEAD_REDIS,
        }
    }


@pytest.fixture
def broker_down(settings):
    """Celery with its production transport options, at a port where nothing listens:
    only the address changes, so the timeouts under test are the configured ones."""
    keys = ("broker_url", "broker_transport_options", "task_always_eager")
    saved = {key: celery_app.conf[key] for key in keys}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.update(
        broker_url=DEAD_REDIS,
        broker_transport_options=settings.REDIS_BROKER_TRANSPORT_OPTIONS,
        task_always_eager=False,
    )
    _reset_broker_connections()
    outbox.broker_circuit_reset()
    yield
    celery_app.conf.update(saved)
    _reset_broker_connections()
    outbox.broker_circuit_reset()


@pytest.fixture
def redis_down(cache_down, broker_down):
    """Redis has died: both the cache and the broker are gone."""


def test_pages_and_the_api_answer_from_the_database_with_redis_down(
    member, client_for, api_client, redis_down, caplog
):
    # given: the gym exists; then Redis dies
    caplog.set_level(logging.WARNING, logger="gymsite.cache")

    # when: anonymous, signed-in and API requests arrive while Redis is unreachable
    landing = api_client.get("/")
    login_page = api_client.get(reverse("account_login"))
    token = api_client.post(
        reverse("api-token"), {"email": member.user.email, "password": DEFAULT_PASSWORD}
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    me = api_client.get(reverse("api-me"))
    branches = api_client.get(reverse("api-branches"))
    portal = client_for(member.user).get(reverse("portal:home"))

    # then: every one is answered from the database, and the cache failure is logged
    assert landing.status_code == 200
    assert login_page.status_code == 200
    assert token.status_code == 200
    assert me.status_code == 200 and me.json()["email"] == member.user.email
    assert branches.status_code == 200 and len(branches.json()["results"]) == 1
    assert portal.status_code == 200
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


def test_portal_sign_in_works_with_the_cache_down(cache_down, client, member):
    response = client.post(
        reverse("account_login"), {"login": member.user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(member.user.pk)


def test_login_lockout_still_holds_with_the_cache_down(cache_down, api_client, member, settings):
    # given: axes counts failures in the database, not in the cache
    url = reverse("api-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(url, {"email": member.user.email, "password": "wrong"})

    # when: the right password follows the failures
    response = api_client.post(url, {"email": member.user.email, "password": DEFAULT_PASSWORD})

    # then: still locked out
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"


def test_api_throttles_fail_open_with_the_cache_down(cache_down, api_client, member, settings):
    # given: a login throttle of 2 a minute, counted in the (unreachable) cache
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "2/minute",
        },
    }
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    api_settings.reload()
    ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        # when: more sign-ins than the limit, with the right password
        statuses = [
            api_client.post(
                reverse("api-token"),
                {"email": member.user.email, "password": DEFAULT_PASSWORD},
            ).status_code
            for _ in range(4)
        ]
    finally:
        api_settings.reload()
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    # then: nobody is refused because the counter's store is gone
    assert statuses == [200] * 4


def test_the_same_throttle_holds_when_the_cache_is_up(api_client, member, settings):
    """The counterpart of the test above: the limit itself works."""
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "login": "2/minute"}
    saved = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        statuses = [
            api_client.post(
                reverse("api-token"),
                {"email": member.user.email, "password": DEFAULT_PASSWORD},
            ).status_code
            for _ in range(3)
        ]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = saved
    assert statuses == [200, 200, 429]


@pytest.mark.django_db
def test_healthz_is_200_when_everything_answers(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_cache_and_broker_when_redis_is_down(redis_down, client):
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "cache": "down", "broker": "down"}
    assert elapsed < 3


def _run_with_environment(code, **env):
    result = subprocess.run(
        [sys.executable, "-"],
        input=code,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "gymsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


HEALTH_PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


def test_healthz_is_503_when_the_database_is_down():
    # given: a web process whose DATABASE_URL points at a closed port
    result = _run_with_environment(HEALTH_PROBE, DATABASE_URL=DEAD_DATABASE)

    # then: /healthz answers, before any middleware reaches for the database
    assert result["status"] == 503
    assert result["body"]["checks"]["database"] == "down"
    assert result["body"]["checks"]["cache"] == "ok"
    assert result["seconds"] < 5


def test_healthz_names_every_part_when_all_are_down():
    result = _run_with_environment(HEALTH_PROBE, DATABASE_URL=DEAD_DATABASE, REDIS_URL=DEAD_REDIS)
    assert result["status"] == 503
    assert result["body"]["checks"] == {"database": "down", "cache": "down", "broker": "down"}
    assert result["seconds"] < 5


def _queue_five_emails(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            outbox.email_enqueue(
                to=f"m{n}@example.com",
                template="accounts/welcome",
                context={"first_name": f"M{n}", "organisation_name": "Gym A", "site_url": ""},
            )


@pytest.mark.django_db
def test_broker_down_adds_under_a_second_and_leaves_the_emails_to_the_relay(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.WARNING, logger="gymsite.outbox")

    # when: a request's transaction queues five emails while the broker is unreachable
    started = time.monotonic()
    _queue_five_emails(django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started

    # then: the publish failures cost well under a second in all
    assert elapsed < 1.5, f"queuing 5 emails took {elapsed:.2f}s with the broker down"
    # and: the rows wait for the relay, nothing was sent, the deferral was logged
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 5
    assert mail.outbox == []
    assert any("deferred to the relay" in r.getMessage() for r in caplog.records)

    # when: the relay sweeps
    assert outbox.outbox_relay() == 5

    # then: each email went out once
    assert sorted(m.to[0] for m in mail.outbox) == [f"m{n}@example.com" for n in range(5)]
    assert not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()
