"""Redis (cache and broker) or the database down: the site degrades, it does not fall over.

"Down" is a real closed port on 127.0.0.1, reached with the real client libraries
(redis-py for the cache, kombu for the broker, psycopg for the database).
"""

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD
from gymsite import cache as cache_module
from gymsite import outbox
from gymsite.celery import app as celery_app
from gymsite.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgres://postgres@127.0.0.1:1/spotter"


def _reset_broker_connections():
    from kombu import pools

    # As test_outbox does: a new broker address needs fresh pools (app.close() would
    # also deregister the app, and shared tasks would stop resolving).
    pools.reset()
    celery_app._pool = None
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
def hung_redis():
    """A Redis that accepts connections and never answers (a stuck server, a full
    network buffer): the kernel completes the handshake, nobody ever replies."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


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


def test_password_reset_is_accepted_with_the_cache_down(
    cache_down, client, member, django_capture_on_commit_callbacks
):
    # allauth's rate limits count in the cache: with it gone they let the request through
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": member.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1


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


@pytest.fixture
def login_throttle_of_two(monkeypatch):
    """DRF reads its rates into the class at import: a 2-a-minute login limit."""
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "login": "2/minute"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


def _sign_in_four_times(api_client, member):
    return [
        api_client.post(
            reverse("api-token"), {"email": member.user.email, "password": DEFAULT_PASSWORD}
        ).status_code
        for _ in range(4)
    ]


def test_api_throttles_fail_open_with_the_cache_down(
    cache_down, login_throttle_of_two, api_client, member
):
    # given: the login throttle counts in the cache, which is unreachable
    # when: more sign-ins than the limit, with the right password
    statuses = _sign_in_four_times(api_client, member)

    # then: nobody is refused because the counter's store is gone
    assert statuses == [200] * 4


def test_the_same_throttle_holds_when_the_cache_is_up(login_throttle_of_two, api_client, member):
    """The counterpart of the test above: the limit itself works."""
    assert _sign_in_four_times(api_client, member) == [200, 200, 429, 429]


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
    print(f"5 emails queued with the broker down: {elapsed:.3f}s")

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


@pytest.mark.django_db
def test_a_hung_broker_costs_one_short_timeout_per_request(
    broker_down, hung_redis, django_capture_on_commit_callbacks
):
    # given: the broker accepts connections and never answers
    celery_app.conf.broker_url = hung_redis
    _reset_broker_connections()

    # when: five emails are queued on commit
    started = time.monotonic()
    _queue_five_emails(django_capture_on_commit_callbacks)
    elapsed = time.monotonic() - started
    print(f"5 emails queued with a hung broker: {elapsed:.3f}s")

    # then: one socket timeout, then the rest are left to the relay at once
    assert elapsed < 1.5, f"queuing 5 emails took {elapsed:.2f}s with a hung broker"
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count() == 5


@pytest.mark.django_db
def test_a_hung_cache_costs_a_page_one_short_timeout(settings, hung_redis, member, client_for):
    # given: the page has been served once (templates compiled), then the cache hangs
    client = client_for(member.user)
    assert client.get(reverse("portal:home")).status_code == 200
    settings.CACHES = {"default": {**settings.REDIS_CACHE, "LOCATION": hung_redis}}

    # when: the page is asked for again
    started = time.monotonic()
    response = client.get(reverse("portal:home"))
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    print(f"page with a hung cache: {elapsed:.3f}s")
    assert elapsed < 1.0, f"the page took {elapsed:.2f}s with a hung cache"


class RedisServer:
    """A private redis-server on a free port, to stop and start like the real one."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments, our port)
            [
                shutil.which("redis-server"),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),  # in memory only
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    def queued(self) -> int:
        import redis

        return redis.Redis.from_url(self.url).llen("celery")


@pytest.fixture
def own_redis(settings):
    """Cache and broker on a Redis of the test's own, with the production options."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    settings.CACHES = {"default": {**settings.REDIS_CACHE, "LOCATION": server.url}}
    keys = ("broker_url", "broker_transport_options", "task_always_eager")
    saved = {key: celery_app.conf[key] for key in keys}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.update(
        broker_url=server.url,
        broker_transport_options=settings.REDIS_BROKER_TRANSPORT_OPTIONS,
        task_always_eager=False,
    )
    _reset_broker_connections()
    yield server
    if server.process.poll() is None:
        server.stop()
    celery_app.conf.update(saved)
    _reset_broker_connections()


def _welcome(django_capture_on_commit_callbacks, to):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.email_enqueue(
            to=to,
            template="accounts/welcome",
            context={"first_name": "Ada", "organisation_name": "Gym A", "site_url": ""},
        )


def test_redis_stopped_and_started_again(
    member, client_for, own_redis, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    client = client_for(member.user)
    # given: Redis up: the page is served, the cache holds, an email is published
    assert client.get(reverse("portal:home")).status_code == 200
    _welcome(django_capture_on_commit_callbacks, "up@example.com")
    assert own_redis.queued() == 1
    assert client.get("/healthz").status_code == 200

    # when: Redis stops
    own_redis.stop()

    # then: pages still answer, the email waits in the outbox, /healthz says 503
    assert client.get(reverse("portal:home")).status_code == 200
    _welcome(django_capture_on_commit_callbacks, "down@example.com")
    waiting = OutboxMessage.objects.get(payload__to=["down@example.com"])
    assert waiting.status == OutboxMessage.Status.PENDING
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["down"] == ["cache", "broker"]

    # when: Redis is back and the failure windows have passed
    own_redis.start()
    time.sleep(max(cache_module.RETRY_SECONDS, outbox.BROKER_RETRY_SECONDS) + 0.2)

    # then: the cache and the broker are used again, with no restart of the process
    assert client.get("/healthz").status_code == 200
    cache.set("back", 1)
    assert cache.get("back") == 1
    _welcome(django_capture_on_commit_callbacks, "back@example.com")
    assert own_redis.queued() == 1  # a fresh server: only the new publish
