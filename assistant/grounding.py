"""Grounding: an answer may state only facts that this conversation's tools returned.

Times, dates, prices, place counts, class names and branch names are pulled out of
the answer and looked up among the facts of the tool results (and, for names, the
caller's own question). Anything not found makes the answer ungrounded: the caller
then shows an answer built from the tool results alone (``render.from_calls``).
Out-of-scope questions are refused before any engine runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)

TIME_RE = re.compile(r"(?<![\d:.£$€])(\d{1,2})[:.](\d{2})(?!\d)\s*(a\.?m\.?|p\.?m\.?)?", re.I)
HOUR_RE = re.compile(r"(?<![\d:.])\b(\d{1,2})\s*(am|pm)\b", re.I)
MONEY_RE = re.compile(
    r"(?:[£$€]\s?(\d+(?:[.,]\d{1,2})?))|(?:(\d+(?:\.\d{1,2})?)\s?(?:gbp|eur|usd|pounds?|euros?)\b)",
    re.I,
)
DECIMAL_RE = re.compile(r"(?<![\d.])(\d+\.\d{2})(?![\d])")
PLACES_RE = re.compile(
    r"\b(\d+)\s+(?:free\s+|open\s+|more\s+)?(?:places?|spots?|spaces?|seats?)\b", re.I
)
ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
DAY_MONTH_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b", re.I)
MONTH_DAY_RE = re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(MONTHS, 1) if m.startswith(name.lower()[:3]))


def _times(text: str) -> set[str]:
    found = set()
    for hour, minute, meridiem in TIME_RE.findall(text):
        found.add(_clock(int(hour), int(minute), meridiem))
    for hour, meridiem in HOUR_RE.findall(text):
        found.add(_clock(int(hour), 0, meridiem))
    return {t for t in found if t}


def _clock(hour: int, minute: int, meridiem: str) -> str | None:
    meridiem = meridiem.lower().replace(".", "")
    if hour > 23 or minute > 59:
        return None
    if meridiem == "pm" and hour < 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    text = f"{hour:02d}:{minute:02d}"
    # "7:15" with no am/pm may be either; the evidence side knows which it has.
    return text if meridiem or hour >= 12 else f"~{text}"


def _amount(text: str) -> str | None:
    try:
        return f"{Decimal(text.replace(',', '.')):.2f}"
    except InvalidOperation:
        return None


def _dates(text: str) -> set[tuple[int, int]]:
    found = {(int(m), int(d)) for _y, m, d in ISO_DATE_RE.findall(text)}
    found |= {(_month(m), int(d)) for d, m in DAY_MONTH_RE.findall(text)}
    found |= {(_month(m), int(d)) for m, d in MONTH_DAY_RE.findall(text)}
    return found


@dataclass
class Evidence:
    """The facts that tool results stated, normalised for lookup."""

    times: set[str] = field(default_factory=set)
    amounts: set[str] = field(default_factory=set)
    numbers: set[int] = field(default_factory=set)
    dates: set[tuple[int, int]] = field(default_factory=set)
    text: str = ""

    def add(self, value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                self.add(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self.add(item)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            self.numbers.add(value)
        else:
            text = str(value)
            self.text += "\n" + text.lower()
            self.times |= {t.lstrip("~") for t in _times(text)}
            self.dates |= _dates(text)
            self.amounts |= {a for a in map(_amount, DECIMAL_RE.findall(text)) if a}
            for amount in MONEY_RE.findall(text):
                self.amounts.add(_amount(amount[0] or amount[1]))
            if text.isdigit():
                self.numbers.add(int(text))


def evidence_from(results: list[dict]) -> Evidence:
    evidence = Evidence()
    for result in results:
        evidence.add({k: v for k, v in result.items() if k != "confirmation_token"})
    return evidence


def ungrounded_facts(
    answer: str, evidence: Evidence, *, names: list[str], question: str = ""
) -> list[str]:
    """Every fact the answer states that no tool result of this conversation holds."""
    missing = []
    for time in _times(answer):
        if time.startswith("~"):
            hour, minute = map(int, time[1:].split(":"))
            options = {f"{hour:02d}:{minute:02d}", f"{hour + 12:02d}:{minute:02d}"}
            if not options & evidence.times:
                missing.append(time[1:])
        elif time not in evidence.times:
            missing.append(time)
    for groups in MONEY_RE.findall(answer):
        amount = _amount(groups[0] or groups[1])
        if amount and amount not in evidence.amounts:
            missing.append(amount)
    for count in PLACES_RE.findall(answer):
        if int(count) not in evidence.numbers:
            missing.append(f"{count} places")
    for month, day in _dates(answer):
        if (month, day) not in evidence.dates:
            missing.append(f"{day} {MONTHS[month - 1].capitalize()}")
    lowered = answer.lower()
    asked = question.lower()
    for name in sorted(set(names), key=len, reverse=True):
        key = name.lower()
        pattern = re.compile(r"\b" + re.escape(key) + r"\b")
        if len(key) < 3 or not pattern.search(lowered):
            continue
        # "Yin Yoga" is one name: "Yoga" inside it is not a second fact.
        lowered = pattern.sub(" ", lowered)
        if key in evidence.text or (key in asked and _is_category_word(key, names)):
            continue
        missing.append(name)
    return missing


def _is_category_word(key: str, names: list[str]) -> bool:
    """A word like "yoga" the member used may be echoed ("no yoga tomorrow")."""
    return any(key != other.lower() and key in other.lower() for other in names)


# --- out of scope --------------------------------------------------------------------

OUT_OF_SCOPE = {
    "medical": re.compile(
        r"\b(injur\w*|pain\w*|hurts?|diagnos\w*|medic\w*|doctor|symptom\w*|pregnan\w*|"
        r"blood pressure|diabet\w*|asthma|physio\w*|sprain\w*|knee surgery|heart condition|"
        r"supplements?|steroids?|calories should|lose weight fast|diet plan)\b",
        re.I,
    ),
    "other_gyms": re.compile(
        r"\b(puregym|pure gym|gymbox|virgin active|david lloyd|the gym group|anytime fitness|"
        r"fitness first|nuffield|other gyms?|another gym|competitors?|better gym)\b",
        re.I,
    ),
    "general": re.compile(
        r"\b(weather|capital of|president|prime minister|recipe|football|who won|stock price|"
        r"bitcoin|write (?:me )?(?:a|an) (?:poem|essay|story|code)|poem|joke|translate|"
        r"news|election|homework|movie|song lyrics|history of)\b",
        re.I,
    ),
}


def out_of_scope(question: str) -> str | None:
    for kind, pattern in OUT_OF_SCOPE.items():
        if pattern.search(question):
            return kind
    return None


def refusal(kind: str) -> str:
    if kind == "medical":
        return _(
            "I'm sorry, I can't give medical or health advice. Please ask a doctor or a "
            "qualified professional; our trainers at the front desk can help you choose classes."
        )
    if kind == "other_gyms":
        return _(
            "I'm sorry, I can only answer about this gym: its classes, bookings, plans and "
            "opening hours."
        )
    return _(
        "I'm sorry, I can only help with this gym: classes and places, your bookings, "
        "plans and prices, opening hours and your membership."
    )
