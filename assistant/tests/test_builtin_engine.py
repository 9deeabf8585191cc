"""The built-in engine answers the common questions from the gym's data, and refuses
the rest, with no model configured."""

import pytest

from assistant import grounding

pytestmark = pytest.mark.django_db

YOGA_TOMORROW = {"camden_flow", "camden_yin", "river_flow"}

# question, the classes the answer lists (None: not a class search), words it must hold.
# Riverside is not in the member's plan, so its classes never show for them.
CLASS_QUESTIONS = [
    ("any yoga tomorrow evening at Camden?", {"camden_flow", "camden_yin"}, ["18:30", "20:00"]),
    ("Is there yoga tomorrow?", {"camden_flow", "camden_yin"}, ["Vinyasa Flow", "Yin Yoga"]),
    ("what yoga classes are on tomorrow evening", {"camden_flow", "camden_yin"}, []),
    ("When is the next spin class?", {"camden_spin"}, ["07:00", "24 places left"]),
    ("next HIIT class please", {"north_hiit"}, ["12:30"]),
    ("Any HIIT at lunchtime tomorrow?", {"north_hiit"}, ["HIIT Blast"]),
    (
        "how many places are left in Vinyasa Flow tomorrow at Camden?",
        {"camden_flow"},
        ["15 places left"],
    ),
    ("Is Yin Yoga full tomorrow?", {"camden_yin"}, ["full, 2 waiting"]),
    ("spin tomorrow morning at camden", {"camden_spin"}, ["Spin 45"]),
    ("pilates classes", {"camden_pilates"}, ["1 places left"]),
    ("Mat Pilates at Camden", {"camden_pilates"}, ["10:30"]),
    ("yoga at North", {"north_flow"}, ["North"]),
    ("Any classes at North tomorrow?", {"north_hiit"}, ["HIIT Blast"]),
    ("classes at Camden tomorrow after 6pm", {"camden_flow", "camden_yin"}, []),
    ("yoga tomorrow before 7pm", {"camden_flow"}, ["18:30"]),
    ("yoga with at least 16 places", {"north_flow"}, ["20 places left"]),
    ("What's on at Camden tomorrow morning?", {"camden_spin"}, []),
    ("vinyasa flow tomorrow", {"camden_flow"}, []),
    ("Any yoga tonight?", set(), ["no upcoming classes"]),
    ("Any cycling classes tomorrow?", {"camden_spin"}, []),
    ("yoga in the afternoon tomorrow", set(), ["no upcoming classes"]),
    ("Is there any HIIT on {day_after}?", set(), ["no upcoming classes"]),
    ("yoga on {day_after}", {"north_flow"}, ["North"]),
    ("pilates {day_after} morning", {"camden_pilates"}, []),
    ("Are there any places left in spin tomorrow?", {"camden_spin"}, ["24 places left"]),
    (
        "show me the timetable at Camden tomorrow",
        {"camden_spin", "camden_flow", "camden_yin"},
        ["07:00", "18:30", "20:00"],
    ),
    ("Any HIIT tomorrow morning?", set(), ["no upcoming classes"]),
]

OTHER_QUESTIONS = [
    ("What are your prices?", ["Monthly Unlimited", "49.00 GBP", "80.00", "29.50"]),
    ("How much does membership cost?", ["49.00"]),
    ("what plans do you have", ["10 Class Pack"]),
    ("When are you open?", ["Camden", "06:00", "22:00", "06:30", "21:00"]),
    ("opening hours at Camden", ["06:00–22:00"]),
    ("What time does North close?", ["21:00"]),
    ("What have I booked?", ["no upcoming bookings"]),
    ("show my bookings", ["no upcoming bookings"]),
    ("How much do I owe?", ["12.50", "1 open invoice"]),
    ("What's my membership?", ["Monthly Unlimited", "Active"]),
    ("when does my membership renew", ["Monthly Unlimited"]),
    ("hello", ["which classes are on tomorrow evening?"]),
    ("what's the wifi password", ["Sorry, I can't help with that"]),
    ("Can you tell me about parking", ["Sorry, I can't help with that"]),
    ("How much is the class pack?", ["10 Class Pack", "80.00"]),
    ("Is Camden open on Sunday?", ["Camden", "Sunday: 06:00–22:00"]),
    ("Do I have credits left?", ["Monthly Unlimited"]),
    ("am I booked on anything?", ["no upcoming bookings"]),
    ("What's my training plan?", ["You have no training plan assigned"]),
]

REFUSED = [
    ("My knee hurts after running, what should I do?", "medical"),
    ("Can I train while pregnant?", "medical"),
    ("Which supplements should I take?", "medical"),
    ("Is PureGym cheaper than you?", "other_gyms"),
    ("What are the opening hours of Virgin Active?", "other_gyms"),
    ("What's the capital of France?", "general"),
    ("What's the weather tomorrow?", "general"),
    ("write me a poem about spin", "general"),
]


def test_there_are_at_least_forty_questions():
    assert len(CLASS_QUESTIONS) + len(OTHER_QUESTIONS) >= 40


@pytest.mark.parametrize(("question", "expected", "words"), CLASS_QUESTIONS)
def test_class_questions(demo, member, ask, question, expected, words):
    question = question.format(day_after=demo.day_after.strftime("%A"))
    # when
    reply = ask(member.user, question)
    # then: exactly the expected classes, and the answer says what they are
    found = {demo.key_of(row["session_id"]) for row in reply.classes}
    assert found == expected, reply.answer
    for word in words:
        assert word in reply.answer
    for key in expected:
        assert demo.sessions[key].class_type.name in reply.answer
    assert "Riverside" not in reply.answer
    assert reply.engine == "builtin" and reply.outcome == "answered"


@pytest.mark.parametrize(("question", "words"), OTHER_QUESTIONS)
def test_other_questions(demo, member, ask, question, words):
    reply = ask(member.user, question)
    for word in words:
        assert word in reply.answer, reply.answer
    assert reply.classes == []


@pytest.mark.parametrize(("question", "kind"), REFUSED)
def test_out_of_scope_questions_are_refused(demo, member, ask, question, kind):
    reply = ask(member.user, question)
    assert reply.outcome == "refused"
    assert reply.answer == grounding.refusal(kind)
    assert reply.tools == []


def test_bookings_are_listed_after_booking(demo, member, ask):
    # given: the member booked through the assistant
    offer = ask(member.user, "book yoga tomorrow at 18:30 at Camden")
    assert offer.confirmation and "Vinyasa Flow" in offer.confirmation["summary"]
    from assistant.services import assistant_confirm, caller_for

    done = assistant_confirm(
        caller=caller_for(user=member.user, organisation=demo.gym),
        token=offer.confirmation["token"],
    )
    assert done.answer.startswith("Booked: Vinyasa Flow at Camden")
    # when
    reply = ask(member.user, "what have I booked?")
    # then
    assert "Vinyasa Flow at Camden" in reply.answer and "18:30" in reply.answer


def test_book_it_refers_to_the_previous_question(demo, member, ask):
    history = [
        {"role": "user", "content": "any yoga tomorrow evening at Camden?"},
        {"role": "assistant", "content": "Here is what I found: ..."},
    ]
    reply = ask(member.user, "book the first one", history=history)
    assert reply.confirmation["action"] == "book_class"
    assert "Vinyasa Flow at Camden" in reply.confirmation["summary"]
    full = ask(member.user, "book the 8pm one", history=history)
    assert full.confirmation["action"] == "book_class"
    assert "is full: join its waitlist" in full.confirmation["summary"]


def test_staff_questions(demo, owner, ask):
    figures = ask(owner, "today's figures", role="staff")
    assert "Active memberships: 1" in figures.answer
    tomorrow = ask(owner, "tomorrow's classes with waitlists", role="staff")
    assert "Yin Yoga at Camden 20:00: 16/16 booked, 2 waiting" in tomorrow.answer
    status = ask(owner, f"status of member {demo.membership.member_id}", role="staff")
    assert f"Member #{demo.membership.member_id}: Active; membership Monthly" in status.answer
    risk = ask(owner, "which members are at risk?", role="staff")
    assert "No active member has been away" in risk.answer


def test_my_training_plan_comes_from_the_training_app(demo, member, trainer, ask):
    # given a plan a trainer built and assigned to the member
    from django.utils import timezone

    from accounts.tenancy import tenant_scope
    from training import services as training
    from training.tests.factories import ExerciseFactory

    with tenant_scope(demo.gym):
        plan = training.plan_create(name="Strength block", actor=None, trainer=trainer)
        day = training.plan_day_add(plan=plan, actor=None, name="Lower body")
        squat = ExerciseFactory(organisation=demo.gym, name="Back squat")
        training.plan_exercise_add(
            plan=plan, day=day, exercise=squat, prescription={"sets": 5, "reps": 5}, actor=None
        )
        training.plan_assign(
            plan=plan, member=member, actor=None, trainer=trainer, starts_on=timezone.localdate()
        )

    # when the member asks for today's workout
    reply = ask(member.user, "What's my workout today?")

    # then the answer is their plan's day and exercise, from the tool
    assert "Strength block" in reply.answer and "Lower body" in reply.answer
    assert "Back squat" in reply.answer
    assert reply.tools == ["my_training_plan"]
