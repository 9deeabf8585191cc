"""The model engine through the real ``openai`` client against a local scripted server:
right answers pass, every invented fact is caught and replaced from the tool results."""

import json

import pytest

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory, UserFactory
from assistant.models import AssistantLog, AssistantSetting, AssistantUsage
from assistant.services import assistant_confirm, caller_for
from bookings.models import Booking
from bookings.tests.factories import BookingFactory

from .fake_llm import FakeChatServer, say, tool_call

pytestmark = pytest.mark.django_db

YOGA_EVENING = {
    "class_type": "yoga",
    "branch": "Camden",
    "day": "tomorrow",
    "time_of_day": "evening",
}


@pytest.fixture
def model(settings):
    with FakeChatServer() as server:
        settings.ASSISTANT = {
            "BASE_URL": server.url,
            "MODEL": "gym-test",
            "API_KEY": "test-key",
            "TIMEOUT": 5,
        }
        yield server


def test_a_grounded_answer_is_shown_as_the_model_wrote_it(demo, member, ask, model):
    model.script = [
        tool_call("find_classes", YOGA_EVENING),
        say(
            "Vinyasa Flow at Camden tomorrow at 18:30 has 15 places left; "
            "Yin Yoga at 20:00 is full."
        ),
    ]
    reply = ask(member.user, "any yoga tomorrow evening at Camden?")
    assert reply.engine == "model" and reply.outcome == "answered"
    assert reply.answer.startswith("Vinyasa Flow at Camden tomorrow at 18:30 has 15 places")
    # the real client sent our tools, the key, and the tool result back to the model
    first, second = model.requests
    assert first["auth"] == "Bearer test-key"
    assert "find_classes" in {t["function"]["name"] for t in first["body"]["tools"]}
    tool_message = second["body"]["messages"][-1]
    assert tool_message["role"] == "tool" and "Vinyasa Flow" in tool_message["content"]
    log = AssistantLog.objects.unscoped().get()
    assert log.tokens == 200 and log.tool_calls[0]["tool"] == "find_classes"


@pytest.mark.parametrize(
    ("script", "invented"),
    [
        pytest.param(
            [
                tool_call("find_classes", YOGA_EVENING),
                say("There is a Vinyasa Flow at 7:15 tomorrow too."),
            ],
            ["07:15"],
            id="invented 7:15 class",
        ),
        pytest.param(
            [tool_call("plans_and_prices", {}), say("Monthly Unlimited is £45.00 a month.")],
            ["45.00"],
            id="wrong price",
        ),
        pytest.param(
            [
                tool_call("find_classes", YOGA_EVENING),
                say("Vinyasa Flow tomorrow has 25 places left."),
            ],
            ["25 places"],
            id="wrong place count",
        ),
        pytest.param(
            [
                tool_call("find_classes", {"class_type": "yoga"}),
                say("Try Power Yoga at Camden, it's great."),
            ],
            [],
            id="no fact to catch",
        ),
    ],
)
def test_invented_facts_are_caught(demo, member, ask, model, script, invented):
    model.script = list(script)
    reply = ask(member.user, "any yoga tomorrow evening at Camden?")
    log = AssistantLog.objects.unscoped().get()
    if not invented:
        assert reply.outcome == "answered"
        return
    assert reply.outcome == "replaced"
    assert log.ungrounded == invented
    assert log.model_answer == script[-1]["content"]
    # the answer shown is built from the tool results alone
    assert "7:15" not in reply.answer and "45.00" not in reply.answer
    assert "25 places" not in reply.answer


def test_a_class_at_a_branch_the_member_cannot_use_is_caught(demo, member, ask, model):
    model.script = [
        tool_call("find_classes", {"class_type": "yoga", "branch": "Riverside"}),
        say("Vinyasa Flow at Riverside tomorrow at 19:00 has 20 places left."),
    ]
    reply = ask(member.user, "yoga at Riverside?")
    tool_result = json.loads(model.requests[1]["body"]["messages"][-1]["content"])
    assert tool_result == {"error": "Your membership does not include the Riverside branch."}
    assert reply.outcome == "replaced"
    assert "19:00" not in reply.answer
    assert "does not include the Riverside branch" in reply.answer


def test_another_members_bookings_never_reach_the_model(demo, member, ask, model):
    # given: another member of the same gym with a booking
    other = MemberFactory(
        home_branch=demo.branches["Camden"],
        user=UserFactory(first_name="Zebedee", last_name="Quill"),
        first_name="Zebedee",
        last_name="Quill",
    )
    theirs = BookingFactory(
        session=demo.sessions["camden_spin"], member=other, organisation=demo.gym
    )
    model.script = [
        tool_call("my_bookings", {"member_id": other.pk}),
        tool_call("cancel_booking", {"booking_id": theirs.pk}, call_id="call_2"),
        say("Zebedee has Spin 45 at 07:00 tomorrow; I have cancelled it."),
    ]
    reply = ask(member.user, "what has member Zebedee booked? cancel it")
    sent = model.sent_text()
    assert "Zebedee" not in sent.replace("what has member Zebedee booked? cancel it", "")
    assert "You can only see and change your own bookings" in sent
    assert "You have no such booking" in sent
    assert reply.outcome == "replaced" and reply.confirmation is None
    assert "07:00" not in reply.answer
    with tenant_scope(demo.gym):
        assert Booking.objects.get(pk=theirs.pk).status == Booking.Status.BOOKED


def test_a_booking_proposed_by_the_model_waits_for_the_member(demo, member, ask, model):
    session = demo.sessions["camden_flow"]
    model.script = [
        tool_call("book_class", {"session_id": session.pk}),
        say("I can book Vinyasa Flow at 18:30 for you: press Confirm."),
    ]
    reply = ask(member.user, "book the 18:30 yoga at Camden")
    assert reply.outcome == "confirm" and reply.confirmation["action"] == "book_class"
    # the model never saw the token, and nothing is booked yet
    assert reply.confirmation["token"] not in model.sent_text()
    with tenant_scope(demo.gym):
        assert not Booking.objects.filter(member=member).exists()
    done = assistant_confirm(
        caller=caller_for(user=member.user, organisation=demo.gym),
        token=reply.confirmation["token"],
    )
    assert "Booked: Vinyasa Flow at Camden" in done.answer
    with tenant_scope(demo.gym):
        assert Booking.objects.get(member=member).session_id == session.pk


def test_a_failing_model_falls_back_to_the_builtin_engine(demo, member, ask, model):
    model.script = [500, 500]
    reply = ask(member.user, "any yoga tomorrow evening at Camden?")
    assert reply.engine == "builtin" and reply.outcome == "failed"
    assert "Vinyasa Flow at Camden" in reply.answer


def test_the_gym_token_budget_switches_to_the_builtin_engine(demo, member, ask, model):
    setting = AssistantSetting.objects.unscoped().get(organisation=demo.gym)
    setting.daily_tokens = 150
    setting.save()
    model.script = [tool_call("plans_and_prices", {}), say("Monthly Unlimited is 49.00 GBP.")]
    first = ask(member.user, "prices?")
    assert first.engine == "model"
    assert AssistantUsage.objects.unscoped().get(user=None).tokens == 200
    second = ask(member.user, "prices?")
    assert second.engine == "builtin" and "49.00 GBP" in second.answer
    assert len(model.requests) == 2
