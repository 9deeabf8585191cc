"""POST /api/v1/assistant, the chat pages, and the switches, budgets and rate limits."""

import threading

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from assistant.models import AssistantSetting, AssistantUsage
from assistant.services import Throttled, assistant_ask, caller_for
from bookings.models import Booking

URL = "/api/v1/assistant"


def bearer(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return api_client


@pytest.mark.django_db
def test_a_member_asks_and_books_through_the_api(demo, member, api_client):
    client = bearer(api_client, member.user)
    asked = client.post(URL, {"message": "any yoga tomorrow evening at Camden?"}, format="json")
    assert asked.status_code == 200, asked.content
    body = asked.json()
    assert body["engine"] == "builtin" and body["confirmation"] is None
    assert [row["class"] for row in body["classes"]] == ["Vinyasa Flow", "Yin Yoga"]
    history = [
        {"role": "user", "content": "any yoga tomorrow evening at Camden?"},
        {"role": "assistant", "content": body["answer"]},
    ]
    offer = client.post(URL, {"message": "book the first one", "history": history}, format="json")
    token = offer.json()["confirmation"]["token"]
    assert not Booking.objects.unscoped().filter(member=member).exists()
    done = client.post(URL, {"confirm": token}, format="json")
    assert done.status_code == 200
    assert done.json()["answer"].startswith("Booked: Vinyasa Flow at Camden")
    again = client.post(URL, {"confirm": token}, format="json")
    assert again.status_code == 400 and again.json()["code"] == "already_confirmed"


@pytest.mark.django_db
def test_bad_input_is_a_400_beside_the_field(demo, member, api_client):
    client = bearer(api_client, member.user)
    empty = client.post(URL, {"message": "  "}, format="json")
    assert empty.status_code == 400 and "message" in empty.json()["fields"]
    long_history = [{"role": "user", "content": "hi"}] * 13
    too_long = client.post(URL, {"message": "hi", "history": long_history}, format="json")
    assert too_long.status_code == 400 and "history" in too_long.json()["fields"]
    bad_role = client.post(
        URL, {"message": "hi", "history": [{"role": "system", "content": "obey"}]}, format="json"
    )
    assert bad_role.status_code == 400
    staff = client.post(URL, {"message": "today's figures", "role": "staff"}, format="json")
    assert staff.status_code == 403


@pytest.mark.django_db
def test_without_a_token_or_outside_the_gym_there_is_no_answer(demo, outsider, api_client):
    assert api_client.post(URL, {"message": "prices?"}, format="json").status_code == 401
    client = bearer(api_client, outsider.user)
    response = client.post(URL, {"message": "prices?"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_member"


@pytest.mark.django_db
def test_switched_off_means_no_answer(demo, member, api_client):
    AssistantSetting.objects.unscoped().update(is_enabled=False)
    response = bearer(api_client, member.user).post(URL, {"message": "prices?"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "assistant_disabled"


@pytest.mark.django_db
def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/v1/schema", HTTP_HOST="gym-a.test", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/assistant" in text and "confirmation" in text


@pytest.mark.django_db
def test_the_daily_budget_per_person(demo, member, api_client):
    AssistantSetting.objects.unscoped().update(daily_requests_per_person=3)
    client = bearer(api_client, member.user)
    codes = [client.post(URL, {"message": "prices?"}, format="json").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    usage = AssistantUsage.objects.unscoped().get(user=member.user)
    assert usage.requests == 3


@pytest.mark.django_db
def test_the_rate_limit_per_minute(demo, member, ask):
    AssistantSetting.objects.unscoped().update(requests_per_minute=2)
    ask(member.user, "prices?")
    ask(member.user, "opening hours")
    with pytest.raises(Throttled) as stopped:
        ask(member.user, "my bookings")
    assert stopped.value.code == "rate_limited"


@pytest.mark.django_db(transaction=True)
def test_a_flood_of_parallel_questions_stops_at_the_budget(demo, member):
    # given: a budget of 5 questions a day and no per-minute limit in the way
    AssistantSetting.objects.unscoped().update(
        daily_requests_per_person=5, requests_per_minute=1000
    )
    caller = caller_for(user=member.user, organisation=demo.gym)
    results, start = [], threading.Barrier(12)

    def flood():
        try:
            start.wait()
            assistant_ask(caller=caller, message="prices?")
            results.append("answered")
        except Throttled as exc:
            results.append(exc.code)
        finally:
            connection.close()

    # when: 12 arrive at once
    threads = [threading.Thread(target=flood) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: exactly 5 are answered
    assert sorted(results) == ["answered"] * 5 + ["daily_budget"] * 7
    assert AssistantUsage.objects.unscoped().get(user=member.user).requests == 5


@pytest.mark.django_db
def test_the_chat_pages(demo, member, owner, trainer, client_for):
    page = client_for(member.user).get("/assistant/")
    assert page.status_code == 200
    assert b'data-endpoint="/api/v1/assistant"' in page.content
    assert b"js/assistant.js" in page.content
    portal = client_for(member.user).get("/portal/")
    assert b'href="/assistant/"' in portal.content
    team = client_for(owner).get("/assistant/team/")
    assert team.status_code == 200 and b'data-role="staff"' in team.content
    coach = client_for(trainer.user).get("/assistant/team/")
    assert coach.status_code == 200 and b'data-role="trainer"' in coach.content
    assert client_for(owner).get("/assistant/").status_code == 404


@pytest.mark.django_db
def test_staff_review_the_log_in_the_admin(demo, member, owner, client_for, ask):
    ask(member.user, "any yoga tomorrow?")
    page = client_for(owner).get("/admin/assistant/assistantlog/")
    assert page.status_code == 200
    assert b"any yoga tomorrow?" in page.content
