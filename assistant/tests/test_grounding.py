"""What counts as a fact in an answer, and when it is found in the tool results."""

import pytest

from assistant.grounding import evidence_from, out_of_scope, ungrounded_facts

RESULTS = [
    {
        "classes": [
            {
                "class": "Vinyasa Flow",
                "branch": "Camden",
                "date": "2026-12-05",
                "day": "Saturday 5 December 2026",
                "time": "18:30",
                "ends": "19:30",
                "places_left": 15,
            }
        ]
    },
    {"plans": [{"plan": "Monthly Unlimited", "price": "49.00", "currency": "GBP"}]},
]
NAMES = ["Vinyasa Flow", "Yin Yoga", "Yoga", "Camden", "Riverside"]


@pytest.mark.parametrize(
    "answer",
    [
        "Vinyasa Flow at Camden on 5 December at 18:30, 15 places left.",
        "Vinyasa Flow at 6:30pm on Saturday, December 5th.",
        "Vinyasa Flow at 6.30 p.m. (until 7:30), 15 spots.",
        "Monthly Unlimited costs £49 a month, or 49.00 GBP.",
    ],
)
def test_grounded_answers(answer):
    missing = ungrounded_facts(
        answer, evidence_from(RESULTS), names=NAMES, question="yoga at Riverside?"
    )
    assert missing == []


@pytest.mark.parametrize(
    ("answer", "missing"),
    [
        ("Vinyasa Flow at 7:15.", ["07:15"]),
        ("Vinyasa Flow at 7pm.", ["19:00"]),
        ("Monthly Unlimited is £45.00.", ["45.00"]),
        ("Monthly Unlimited is 39.99 GBP.", ["39.99"]),
        ("Vinyasa Flow has 16 places left.", ["16 places"]),
        ("Vinyasa Flow on 6 December.", ["6 December"]),
        ("Yin Yoga at 18:30.", ["Yin Yoga"]),
    ],
)
def test_invented_facts(answer, missing):
    assert ungrounded_facts(answer, evidence_from(RESULTS), names=NAMES) == missing


def test_a_branch_the_member_named_is_still_a_fact_to_ground():
    # "Riverside" was only in the question: the answer may not present it as found
    found = ungrounded_facts(
        "Vinyasa Flow at Riverside at 18:30.",
        evidence_from(RESULTS),
        names=NAMES,
        question="yoga at Riverside?",
    )
    assert found == ["Riverside"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("my back hurts", "medical"),
        ("is gymbox open late", "other_gyms"),
        ("who won the football", "general"),
        ("any yoga tomorrow?", None),
        ("how much is the monthly plan", None),
    ],
)
def test_out_of_scope(question, kind):
    assert out_of_scope(question) == kind
