"""Member and trainer pages and the API: journeys, idempotent forms, bounded queries."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from training import selectors, services
from training.models import PlanExercise, SetLog, WorkoutSession

pytestmark = pytest.mark.django_db


def _history(member, exercise, weeks):
    """``weeks`` weeks of three workouts of four sets each, plus a weekly weigh-in."""
    now = timezone.now()
    with tenant_scope(member.organisation):
        for week in range(weeks):
            for day in (0, 2, 4):
                when = now - timedelta(weeks=week, days=day)
                session = services.workout_start(member=member, started_at=when)
                for n in range(4):
                    services.set_log(
                        session=session,
                        client_id=uuid.uuid4(),
                        exercise=exercise,
                        set_number=n + 1,
                        reps=5,
                        load_kg=Decimal(80 + week),
                        performed_at=when,
                    )
                services.workout_finish(session=session, finished_at=when)
            services.metric_record(
                member=member,
                kind="weight",
                value=Decimal(85) - Decimal(week) / 4,
                measured_on=(now - timedelta(weeks=week)).date(),
                actor=None,
            )


@pytest.mark.parametrize("weeks", [1, 8])
def test_member_pages_stay_within_a_fixed_number_of_queries(
    weeks, assigned, member, squat, client_for, django_assert_max_num_queries
):
    _history(member, squat, weeks)
    client = client_for(member.user)
    session = WorkoutSession.objects.unscoped().filter(member=member).first()
    for url, limit in [
        (reverse("training:home"), 30),
        (reverse("training:progress"), 30),
        (reverse("training:history"), 20),
        (reverse("training:workout", args=[session.pk]), 25),
    ]:
        with django_assert_max_num_queries(limit):
            response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(reverse("training:home"))
    assert b'data-chart="chart-weight"' in page.content
    assert b'data-chart="chart-e1rm"' in page.content


@pytest.mark.parametrize("clients", [1, 6])
def test_trainer_pages_stay_within_a_fixed_number_of_queries(
    clients, assigned, trainer, branch, squat, client_for, django_assert_max_num_queries
):
    with tenant_scope(trainer.organisation):
        template = assigned.plan.source
        for _ in range(clients - 1):
            extra = MemberFactory(home_branch=branch)
            services.plan_assign(
                plan=template,
                member=extra,
                trainer=trainer,
                starts_on=timezone.localdate(),
                actor=trainer.user,
            )
            _history(extra, squat, 2)
    client = client_for(trainer.user)
    with django_assert_max_num_queries(20):
        listing = client.get(reverse("training:clients"))
    assert listing.status_code == 200
    assert len(listing.context["clients"]) == clients
    with django_assert_max_num_queries(35):
        detail = client.get(reverse("training:client", args=[assigned.member_id]))
    assert detail.status_code == 200


def test_trainer_builds_a_plan_with_a_field_error_for_a_bad_prescription(
    trainer, member, squat, client_for, in_gym
):
    client = client_for(trainer.user)
    created = client.post(
        reverse("training:coach_plans"),
        {"name": "Hypertrophy", "description": "", "member": member.pk},
    )
    assert created.status_code == 302
    url = created.url
    assert client.post(url, {"action": "day", "name": "Push"}).status_code == 302
    day = selectors.editable_plan(user=trainer.user, plan_id=int(url.strip("/").split("/")[-1]))
    day_id = day.current_version.days.get().pk
    bad = client.post(
        url, {"action": "exercise", "day": day_id, "exercise": squat.pk, "sets": 0, "reps": 8}
    )
    assert bad.status_code == 200
    assert "sets" in bad.context["item_form"].errors
    good = client.post(
        url,
        {
            "action": "exercise",
            "day": day_id,
            "exercise": squat.pk,
            "sets": 4,
            "reps": 8,
            "reps_max": 12,
            "load_kg": "60",
            "rest_seconds": 90,
        },
    )
    assert good.status_code == 302
    item = PlanExercise.objects.get(day_id=day_id)
    assert item.prescription == {
        "sets": 4,
        "reps": {"min": 8, "max": 12},
        "load": {"kg": 60.0},
        "rest_seconds": 90,
    }


def test_member_logs_todays_workout_and_a_resent_form_records_once(
    assigned, member, client_for, in_gym
):
    client = client_for(member.user)
    today = selectors.today_workout(member=member)
    started = client.post(
        reverse("training:start"), {"client_id": str(uuid.uuid4()), "plan_day": today.day.pk}
    )
    assert started.status_code == 302
    session = WorkoutSession.objects.get(member=member)
    item = today.exercises[0].item
    form = {
        "action": "log",
        "client_id": str(uuid.uuid4()),
        "plan_exercise": item.pk,
        "set_number": 1,
        "reps": 5,
        "load_kg": "100",
        "rpe": "8",
    }
    url = reverse("training:workout", args=[session.pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the same form sent again
    assert SetLog.objects.filter(session=session).count() == 1
    page = client.get(url)
    assert b"Log set 2" in page.content
    client.post(reverse("training:finish", args=[session.pk]), {"notes": "Felt strong"})
    session.refresh_from_db()
    assert session.finished_at is not None and session.notes == "Felt strong"


def test_api_logging_is_idempotent_and_offline_sessions_sync_once(
    assigned, member, squat, api_client, in_gym
):
    api_client.force_authenticate(member.user)
    today = api_client.get("/api/v1/training/today").json()
    assert today["day"]["name"] == "Day A"
    assert today["exercises"][0]["target_kg"] == 100
    workout = str(uuid.uuid4())
    start = {"client_id": workout, "plan_day": today["day"]["id"]}
    assert api_client.post("/api/v1/training/workouts/start", start).status_code == 201
    assert api_client.post("/api/v1/training/workouts/start", start).status_code == 200
    body = {
        "workout": workout,
        "client_id": str(uuid.uuid4()),
        "plan_exercise": today["exercises"][0]["plan_exercise"]["id"],
        "reps": 5,
        "load_kg": "100",
    }
    first = api_client.post("/api/v1/training/sets", body)
    again = api_client.post("/api/v1/training/sets", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert {r["kind"] for r in first.json()["records"]} == {
        "heaviest_load",
        "best_e1rm",
        "most_reps",
    }
    # a workout done offline two days ago, sent twice
    offline = {
        "client_id": str(uuid.uuid4()),
        "started_at": (timezone.now() - timedelta(days=2)).isoformat(),
        "finished_at": (timezone.now() - timedelta(days=2, hours=-1)).isoformat(),
        "sets": [
            {"client_id": str(uuid.uuid4()), "exercise": squat.pk, "reps": 3, "load_kg": "110"},
            {"client_id": str(uuid.uuid4()), "exercise": squat.pk, "reps": 3, "load_kg": "112.5"},
        ],
    }
    sent = api_client.post("/api/v1/training/workouts/sync", offline)
    resent = api_client.post("/api/v1/training/workouts/sync", offline)
    assert (sent.status_code, resent.status_code) == (201, 200)
    assert sent.json()["sets_recorded"] == 2 and resent.json()["sets_recorded"] == 0
    assert SetLog.objects.filter(member=member).count() == 3
    records = api_client.get("/api/v1/training/records").json()
    heaviest = [r for r in records if r["kind"] == "heaviest_load"]
    assert heaviest[0]["value"] == "112.50"


@pytest.mark.parametrize(
    "body",
    [
        {"reps": 5},
        {"workout": "not-a-uuid", "client_id": str(uuid.uuid4()), "reps": 5},
        {"workout": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "exercise": 999999},
        [],
    ],
)
def test_bad_set_bodies_are_400s(body, member, api_client, in_gym):
    api_client.force_authenticate(member.user)
    response = api_client.post("/api/v1/training/sets", body, format="json")
    assert response.status_code == 400
    assert SetLog.objects.count() == 0


def test_api_bad_prescription_is_a_400_naming_the_field(assigned, trainer, squat, api_client):
    api_client.force_authenticate(trainer.user)
    plan = assigned.plan
    with tenant_scope(plan.organisation):
        day = plan.current_version.days.first()
    url = f"/api/v1/training/plans/{plan.pk}/exercises"
    bad = api_client.post(
        url, {"day": day.pk, "exercise": squat.pk, "prescription": {"sets": "many"}}, format="json"
    )
    assert bad.status_code == 400
    assert "prescription" in bad.json()["fields"]
    good = api_client.post(
        url,
        {"day": day.pk, "exercise": squat.pk, "prescription": {"sets": 2, "reps": 10}},
        format="json",
    )
    assert good.status_code == 201 and good.json()["summary"] == "2 × 10"


def test_schema_lists_the_training_endpoints(api_client, member):
    api_client.force_authenticate(member.user)
    schema = api_client.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    paths = schema.json()["paths"] if schema["Content-Type"].startswith("application/json") else {}
    text = str(paths) if paths else schema.content.decode()
    for path in ("exercises", "plans", "today", "sets", "metrics", "records"):
        assert f"/api/v1/training/{path}" in text
