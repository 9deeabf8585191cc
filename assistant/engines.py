"""Two engines behind one interface: ``run(caller, message, history, toolbox)``.

``ModelEngine`` talks to any OpenAI-compatible chat API (hosted, llama.cpp, vLLM,
Ollama) with tool calls, through the maintained ``openai`` client. ``RuleEngine``
needs nothing: it understands the common questions and answers from the same tools.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from openai import OpenAI

from . import render
from .tools import WEEKDAYS, Caller, ToolCall, call_tool, tools_for

MAX_TOOL_ROUNDS = 4


@dataclass
class EngineResult:
    answer: str
    calls: list[ToolCall] = field(default_factory=list)
    tokens: int = 0


class Toolbox:
    """Runs tools as the caller and keeps every call of this conversation turn."""

    def __init__(self, caller: Caller):
        self.caller = caller
        self.calls: list[ToolCall] = []

    def call(self, name: str, arguments) -> ToolCall:
        call = call_tool(self.caller, name, arguments)
        self.calls.append(call)
        return call


SYSTEM_PROMPT = (
    "You are the assistant of the gym {gym}. You answer {role} questions about this gym "
    "only, using only the tools. Never state a time, date, price, number of places, class "
    "or branch that a tool did not return in this conversation; if the tools return "
    "nothing, say so. Anything that books or cancels returns a confirmation request: tell "
    "the person to press Confirm, never claim it is done. Refuse politely medical or "
    "health advice, questions about other gyms and general knowledge. Times are local to "
    "each branch. Today is {today}. Be brief."
)


class ModelEngine:
    name = "model"

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout: float):
        self.model = model
        self.client = OpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=1
        )

    def run(self, *, caller: Caller, message: str, history: list[dict], toolbox: Toolbox):
        today = caller_today(caller)
        messages = [
            {
                "role": "system",
                "content": SYSTEM_PROMPT.format(
                    gym=caller.organisation.name,
                    role=caller.role,
                    today=f"{WEEKDAYS[today.weekday()].capitalize()} {today.isoformat()}",
                ),
            },
            *({"role": h["role"], "content": h["content"]} for h in history),
            {"role": "user", "content": message},
        ]
        tools = [tool.schema() for tool in tools_for(caller.role)]
        tokens = 0
        for _round in range(MAX_TOOL_ROUNDS):
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, tools=tools, temperature=0
            )
            if response.usage is not None:
                tokens += response.usage.total_tokens or 0
            choice = response.choices[0].message
            if not choice.tool_calls:
                return EngineResult(choice.content or "", toolbox.calls, tokens)
            messages.append(
                {
                    "role": "assistant",
                    "content": choice.content or "",
                    "tool_calls": [
                        {
                            "id": tc.id,
                            "type": "function",
                            "function": {
                                "name": tc.function.name,
                                "arguments": tc.function.arguments,
                            },
                        }
                        for tc in choice.tool_calls
                    ],
                }
            )
            for tc in choice.tool_calls:
                try:
                    arguments = json.loads(tc.function.arguments or "{}")
                except json.JSONDecodeError:
                    arguments = None
                call = toolbox.call(tc.function.name, arguments)
                content = dict(call.result)
                # The model never holds a confirmation token: only the person confirms.
                content.pop("confirmation_token", None)
                messages.append(
                    {"role": "tool", "tool_call_id": tc.id, "content": json.dumps(content)}
                )
        return EngineResult("", toolbox.calls, tokens)


def model_engine_from_settings() -> ModelEngine | None:
    config = settings.ASSISTANT
    if not (config["BASE_URL"] and config["MODEL"]):
        return None
    return ModelEngine(
        base_url=config["BASE_URL"],
        model=config["MODEL"],
        api_key=config["API_KEY"],
        timeout=config["TIMEOUT"],
    )


# --- the built-in engine -------------------------------------------------------------

ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1}
_BOOK_RE = re.compile(r"\b(book|reserve|sign me up|get me (?:a place|in))\b", re.I)
_CANCEL_RE = re.compile(r"\b(cancel|can't make|cannot make|drop out of)\b", re.I)
_WAITLIST_JOIN_RE = re.compile(r"\b(join|put me on|add me to)\b.*\bwait\s?list\b", re.I)
_WAITLIST_LEAVE_RE = re.compile(r"\b(leave|take me off|remove me from)\b.*\bwait\s?list\b", re.I)
_SESSION_ID_RE = re.compile(r"\b(?:session|class)\s*(?:#|number|no\.?)?\s*(\d+)\b", re.I)
_MEMBER_NO_RE = re.compile(r"\bmember\s*(?:#|number|no\.?)?\s*(\d+)\b", re.I)
_AFTER_RE = re.compile(r"\bafter\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", re.I)
_BEFORE_RE = re.compile(r"\bbefore\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", re.I)
_TIME_RE = re.compile(r"\b(\d{1,2})[:.](\d{2})\s*(am|pm)?|\b(\d{1,2})\s*(am|pm)\b", re.I)
_MIN_PLACES_RE = re.compile(r"\bat least (\d+)\s+(?:places|spots|spaces)\b", re.I)

_HOURS_RE = re.compile(r"\b(open(?:ing)?|close|closing|hours)\b", re.I)
_PRICE_RE = re.compile(
    r"\b(price|prices|cost|costs|how much|plans?|fees?|tariff|membership options|join)\b", re.I
)
_OWE_RE = re.compile(
    r"\b(owe|balance|outstanding|unpaid|my membership|my plan|credits? left|my credits|"
    r"membership (?:end|expire|renew)|when does my|am i (?:paid|up to date))\b",
    re.I,
)
_MY_BOOKINGS_RE = re.compile(
    r"\b(my bookings?|my classes|have i booked|am i booked|what (?:have i|am i) booked|"
    r"booked (?:in|on)|my (?:waitlist|reservations?)|what'?s booked)\b",
    re.I,
)
_CLASS_RE = re.compile(
    r"\b(class(?:es)?|session|sessions|places? left|spaces?|spots?|availab\w*|full|"
    r"timetable|schedule|next|any|on|is there)\b",
    re.I,
)
_FIGURES_RE = re.compile(
    r"\b(figures|stats|kpis?|numbers today|check-?ins today|dashboard)\b", re.I
)
_AT_RISK_RE = re.compile(
    r"\b(at[- ]risk|haven'?t (?:visited|been)|not visited|churn|lapsing)\b", re.I
)
_TOMORROW_RE = re.compile(r"\btomorrow\b", re.I)
_TRAINING_PLAN_RE = re.compile(
    r"\b(training plan|workout plan|my programme|my program|today'?s workout|my workout)\b",
    re.I,
)
_HELP_RE = re.compile(r"^\s*(hi|hello|hey|help|what can you do)\b", re.I)


def _hour(hour: str, minute: str | None, meridiem: str | None) -> int:
    value = int(hour)
    if meridiem and meridiem.lower() == "pm" and value < 12:
        value += 12
    elif not meridiem and value < 8:
        value += 12  # "after 6" at a gym means the evening
    return value


class RuleEngine:
    """Understands the common questions by pattern; says plainly when it cannot help."""

    name = "builtin"

    def __init__(self, vocabulary: dict[str, list[str]]):
        self.vocabulary = vocabulary

    # -- reading the question --------------------------------------------------------

    def _class_filters(self, text: str) -> dict:
        lowered = text.lower()
        filters: dict = {}
        names = sorted(
            self.vocabulary["class_types"] + self.vocabulary["categories"], key=len, reverse=True
        )
        for name in names:
            words = [name.lower()] + [w for w in name.lower().split() if len(w) >= 4]
            if any(re.search(r"\b" + re.escape(w) + r"\b", lowered) for w in words):
                whole = re.search(r"\b" + re.escape(name.lower()) + r"\b", lowered)
                filters["class_type"] = (
                    name
                    if whole
                    else next(w for w in words if re.search(r"\b" + re.escape(w) + r"\b", lowered))
                )
                break
        for branch in self.vocabulary["branches"]:
            if re.search(r"\b" + re.escape(branch.lower()) + r"\b", lowered):
                filters["branch"] = branch
                break
        if re.search(r"\btonight\b", lowered):
            filters["day"], filters["time_of_day"] = "today", "evening"
        elif re.search(r"\btoday\b", lowered):
            filters["day"] = "today"
        elif re.search(r"\btomorrow\b", lowered):
            filters["day"] = "tomorrow"
        elif re.search(r"\bweekend\b", lowered):
            filters["day"] = "weekend"
        else:
            for day in WEEKDAYS:
                if re.search(r"\b" + day + r"s?\b", lowered):
                    filters["day"] = day
                    break
        for when in ("morning", "lunchtime", "afternoon", "evening"):
            if re.search(r"\b" + when + r"\b", lowered) or (
                when == "lunchtime" and re.search(r"\blunch\b", lowered)
            ):
                filters["time_of_day"] = when
        if match := _AFTER_RE.search(text):
            filters["after_hour"] = _hour(*match.groups())
        if match := _BEFORE_RE.search(text):
            filters["before_hour"] = _hour(*match.groups())
        if match := _MIN_PLACES_RE.search(text):
            filters["min_places"] = int(match.group(1))
        if re.search(r"\b(next|first|earliest|soonest)\b", lowered) and not _BOOK_RE.search(text):
            filters["limit"] = 1
        return filters

    def _previous_filters(self, history: list[dict]) -> dict:
        for item in reversed(history):
            if item["role"] == "user":
                found = self._class_filters(item["content"])
                found.pop("limit", None)
                if found:
                    return found
        return {}

    @staticmethod
    def _pick(rows: list[dict], text: str, key: str = "time") -> dict | None:
        lowered = text.lower()
        if match := _TIME_RE.search(text):
            hour, minute, meridiem, bare_hour, bare_meridiem = match.groups()
            if bare_hour:
                hour, minute, meridiem = bare_hour, "00", bare_meridiem
            wanted = int(hour)
            if meridiem and meridiem.lower() == "pm" and wanted < 12:
                wanted += 12
            for row in rows:
                h, m = map(int, row[key].split(":"))
                if m == int(minute) and h in (wanted, wanted + 12):
                    return row
            return None
        for word, index in ORDINALS.items():
            if re.search(r"\b" + word + r"\b", lowered) and rows:
                return rows[index] if -len(rows) <= index < len(rows) else None
        return rows[0] if len(rows) == 1 or re.search(r"\b(it|that|this|one)\b", lowered) else None

    # -- answering --------------------------------------------------------------------

    def run(self, *, caller: Caller, message: str, history: list[dict], toolbox: Toolbox):
        answer = self._answer(caller, message, history, toolbox)
        return EngineResult(answer, toolbox.calls, 0)

    def _answer(self, caller, message, history, toolbox) -> str:
        text = message.strip()
        if _HELP_RE.search(text) and len(text) < 30:
            return self.help_text(caller)
        if _TRAINING_PLAN_RE.search(text):
            if caller.role != "member":
                return _("Training plans are the member's own: ask from their account.")
            return render.one(toolbox.call("my_training_plan", {}))
        if caller.role == "staff":
            staff = self._staff(text, toolbox)
            if staff is not None:
                return staff
        if caller.role == "trainer" and _TOMORROW_RE.search(text) and not _BOOK_RE.search(text):
            return render.one(toolbox.call("tomorrow_classes", {}))
        if caller.role == "member":
            member = self._member(caller, text, history, toolbox)
            if member is not None:
                return member
        filters = self._class_filters(text)
        if _HOURS_RE.search(text) and not filters.get("class_type"):
            return render.one(toolbox.call("opening_hours", _only(filters, "branch")))
        if _PRICE_RE.search(text) and not _OWE_RE.search(text):
            return render.one(toolbox.call("plans_and_prices", _only(filters, "branch")))
        if filters.get("class_type") or (filters and _CLASS_RE.search(text)):
            return render.one(toolbox.call("find_classes", filters))
        return _(
            "Sorry, I can't help with that. I can find classes and places left, show and "
            "change your bookings, tell you plans and prices, opening hours and your membership."
        )

    def _staff(self, text: str, toolbox: Toolbox) -> str | None:
        if match := _MEMBER_NO_RE.search(text):
            return render.one(toolbox.call("member_status", {"member_number": match.group(1)}))
        if _AT_RISK_RE.search(text):
            return render.one(toolbox.call("at_risk_members", {}))
        if _FIGURES_RE.search(text):
            return render.one(toolbox.call("today_figures", {}))
        if _TOMORROW_RE.search(text) and re.search(r"\b(class|classes|waitlists?)\b", text, re.I):
            branch = _only(self._class_filters(text), "branch")
            return render.one(toolbox.call("tomorrow_classes", branch))
        return None

    def _member(self, caller, text, history, toolbox) -> str | None:
        if _WAITLIST_LEAVE_RE.search(text):
            return self._change_booking(text, toolbox, "leave_waitlist", "waitlisted")
        if _CANCEL_RE.search(text):
            return self._change_booking(text, toolbox, "cancel_booking", "booked")
        if _WAITLIST_JOIN_RE.search(text) or _BOOK_RE.search(text):
            return self._book(text, history, toolbox)
        if _OWE_RE.search(text):
            return render.one(toolbox.call("my_membership", {}))
        if _MY_BOOKINGS_RE.search(text):
            return render.one(toolbox.call("my_bookings", {}))
        return None

    def _book(self, text, history, toolbox) -> str:
        waitlist = bool(_WAITLIST_JOIN_RE.search(text))
        if match := _SESSION_ID_RE.search(text):
            call = toolbox.call(
                "join_waitlist" if waitlist else "book_class", {"session_id": match.group(1)}
            )
            return render.one(call)
        filters = self._class_filters(text)
        filters.pop("limit", None)
        filters = self._previous_filters(history) | filters
        if not filters:
            return _("Which class would you like? For example: book yoga tomorrow evening.")
        found = toolbox.call("find_classes", filters)
        rows = found.result.get("classes", [])
        if "error" in found.result or not rows:
            return render.one(found)
        if waitlist:
            rows = [r for r in rows if r["full"]] or rows
        choice = self._pick(rows, text)
        if choice is None:
            return render.one(found) + "\n" + _("Which one? Say for example: book the first one.")
        name = "join_waitlist" if waitlist and choice["full"] else "book_class"
        return render.one(toolbox.call(name, {"session_id": choice["session_id"]}))

    def _change_booking(self, text, toolbox, tool: str, status: str) -> str:
        listed = toolbox.call("my_bookings", {})
        rows = [r for r in listed.result.get("bookings", []) if r["status"] == status]
        if not rows:
            return (
                _("You have no waitlist places.")
                if status == "waitlisted"
                else _("You have no upcoming bookings to cancel.")
            )
        filters = self._class_filters(text)
        kind = (filters.get("class_type") or "").lower()
        if kind:
            rows = [
                r
                for r in rows
                if kind in r["class"].lower() or kind in (r["category"] or "").lower()
            ]
        if filters.get("branch"):
            rows = [r for r in rows if r["branch"] == filters["branch"]]
        day = filters.get("day")
        if day in ("today", "tomorrow"):
            today = caller_today(toolbox.caller)
            wanted = (today + timedelta(days=1 if day == "tomorrow" else 0)).isoformat()
            rows = [r for r in rows if r["date"] == wanted]
        elif day in WEEKDAYS:
            rows = [r for r in rows if r["day"].lower().startswith(day)]
        choice = self._pick(rows, text) if len(rows) != 1 else rows[0]
        if re.search(r"\bnext\b", text, re.I) and rows:
            choice = rows[0]
        if choice is None:
            return render.one(listed) + "\n" + _("Which one? Say the class and day.")
        return render.one(toolbox.call(tool, {"booking_id": choice["booking_id"]}))

    @staticmethod
    def help_text(caller: Caller) -> str:
        if caller.role == "staff":
            return _(
                "Ask me for today's figures, members at risk, a member's status by member "
                "number, or tomorrow's classes with their waitlists."
            )
        return _(
            "Ask me things like: which classes are on tomorrow evening? How many places "
            "are left? What have I booked? Book the first one. Cancel my class. What are the "
            "prices? When are you open? What do I owe?"
        )


def caller_today(caller: Caller):
    return caller.now.astimezone(ZoneInfo(caller.organisation.default_timezone)).date()


def _only(filters: dict, *keys: str) -> dict:
    return {k: filters[k] for k in keys if k in filters}
