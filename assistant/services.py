"""Asking the assistant: who asks, may they, which engine, is the answer grounded, log it.

The backend is stateless: the client sends the conversation so far (bounded in
``gymsite``'s API serializer and here), and nothing of it is kept but the review log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openai import OpenAIError

from accounts.models import Organisation, User
from accounts.selectors import is_staff_in, member_for_user, staff_scope_for, trainer_for_user
from accounts.tenancy import TenantScope, tenant_scope
from gymsite.errors import NotAllowed, ServiceError

from . import grounding, render, selectors
from .engines import RuleEngine, Toolbox, model_engine_from_settings
from .models import AssistantLog, AssistantSetting, AssistantUsage
from .tools import Caller, call_tool, confirm_action, redacted

logger = logging.getLogger(__name__)

MAX_HISTORY = 12
MAX_MESSAGE = 1000
MAX_HISTORY_ITEM = 2000


class Throttled(ServiceError):
    status_code = 429
    default_code = "rate_limited"


@dataclass
class Reply:
    answer: str
    engine: str
    outcome: str
    confirmation: dict | None = None
    classes: list[dict] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)


def caller_for(
    *, user: User, organisation: Organisation, role: str | None = None, now=None
) -> Caller:
    """The caller as a member, trainer or staff of the gym (the role they ask for, if
    they hold it; else member, then staff, then trainer)."""
    if user is None or user.is_anonymous:
        raise NotAllowed(_("Sign in to use the assistant."), code="not_authenticated")
    now = now or timezone.now()
    with tenant_scope(organisation):
        member = member_for_user(user=user)
        trainer = trainer_for_user(user=user)
    staff = is_staff_in(user=user, organisation_id=organisation.pk)
    held = [r for r, ok in (("member", member), ("staff", staff), ("trainer", trainer)) if ok]
    if not held:
        raise NotAllowed(_("You are not a member of this gym."), code="not_member")
    chosen = role if role in held else held[0]
    if role and role not in held:
        raise NotAllowed(_("You do not hold that role in this gym."), code="role", field="role")
    caller = Caller(
        user=user,
        organisation=organisation,
        role=chosen,
        member=member if chosen == "member" else None,
        trainer=trainer if chosen == "trainer" else None,
        now=now,
    )
    if chosen == "staff":
        caller.branch_ids = staff_scope_for(user=user, organisation_id=organisation.pk).branch_ids
    return caller


def caller_scope(caller: Caller) -> TenantScope:
    """The scope the tools run in: the API's for that role."""
    return TenantScope(caller.organisation.pk, caller.branch_ids)


def _setting(caller: Caller) -> AssistantSetting:
    setting = selectors.setting_for(
        organisation_id=caller.organisation.pk, branch_id=caller.home_branch_id
    )
    if setting is None or not setting.is_enabled:
        raise NotAllowed(
            _("The assistant is not switched on for this gym."), code="assistant_disabled"
        )
    return setting


def _rate_limit(caller: Caller, setting: AssistantSetting) -> None:
    minute = caller.now.strftime("%Y%m%d%H%M")
    key = f"assistant:rate:{caller.organisation.pk}:{caller.user.pk}:{minute}"
    cache.add(key, 0, timeout=120)
    if cache.incr(key) > setting.requests_per_minute:
        raise Throttled(_("Too many questions at once: wait a minute and ask again."))


def _usage_row(caller: Caller, user_id: int | None) -> int:
    day = timezone.localdate(caller.now)
    row, _created = AssistantUsage.objects.unscoped().get_or_create(
        organisation_id=caller.organisation.pk, day=day, user_id=user_id
    )
    return row.pk


def _claim_request(caller: Caller, setting: AssistantSetting) -> None:
    """Count this question against today's budget; refuse once it is spent.

    A conditional UPDATE: under a flood of parallel questions the row count says which
    ones fit the budget, so the limit is never overshot.
    """
    pk = _usage_row(caller, caller.user.pk)
    claimed = (
        AssistantUsage.objects.unscoped()
        .filter(pk=pk, requests__lt=setting.daily_requests_per_person)
        .update(requests=F("requests") + 1)
    )
    if not claimed:
        raise Throttled(
            _("You have asked today's %(n)s questions: ask again tomorrow.")
            % {"n": setting.daily_requests_per_person},
            code="daily_budget",
        )


def _gym_tokens_left(caller: Caller, setting: AssistantSetting) -> bool:
    pk = _usage_row(caller, None)
    used = AssistantUsage.objects.unscoped().filter(pk=pk).values_list("tokens", flat=True)[0]
    return used < setting.daily_tokens


def _spend_tokens(caller: Caller, tokens: int) -> None:
    if tokens:
        AssistantUsage.objects.unscoped().filter(pk=_usage_row(caller, None)).update(
            tokens=F("tokens") + tokens
        )


def clean_history(history) -> list[dict]:
    """The last exchanges the client sent, as plain user/assistant text."""
    cleaned = []
    for item in list(history or [])[-MAX_HISTORY:]:
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            continue
        content = str(item.get("content") or "")[:MAX_HISTORY_ITEM]
        if content:
            cleaned.append({"role": item["role"], "content": content})
    return cleaned


def _log(caller: Caller, *, surface: str, engine: str, question: str, reply: Reply, **extra):
    AssistantLog.objects.create(
        organisation_id=caller.organisation.pk,
        user=caller.user,
        branch_id=caller.home_branch_id,
        role=caller.role,
        surface=surface,
        engine=engine,
        question=question[:MAX_MESSAGE],
        answer=reply.answer,
        outcome=reply.outcome,
        **extra,
    )


def assistant_ask(
    *,
    caller: Caller,
    message: str,
    history=None,
    surface: str = "api",
    now: datetime | None = None,
) -> Reply:
    """Answer one question from the gym's data, as the caller, within the budgets."""
    message = (message or "").strip()
    if not message:
        raise ServiceError(_("Ask a question."), code="required", field="message")
    if len(message) > MAX_MESSAGE:
        raise ServiceError(
            _("Keep the question under %(n)s characters.") % {"n": MAX_MESSAGE},
            code="too_long",
            field="message",
        )
    history = clean_history(history)
    with tenant_scope(caller.organisation.pk, caller.branch_ids):
        setting = _setting(caller)
        _rate_limit(caller, setting)
        _claim_request(caller, setting)
        kind = grounding.out_of_scope(message)
        if kind is not None:
            reply = Reply(grounding.refusal(kind), "builtin", AssistantLog.Outcome.REFUSED)
            _log(caller, surface=surface, engine="builtin", question=message, reply=reply)
            return reply
        return _answer(caller, setting, message, history, surface)


def _answer(caller, setting, message, history, surface) -> Reply:
    vocabulary = selectors.gym_vocabulary()
    model = model_engine_from_settings()
    builtin = RuleEngine(vocabulary)
    engine = model if model is not None and _gym_tokens_left(caller, setting) else builtin
    toolbox = Toolbox(caller)
    outcome = AssistantLog.Outcome.ANSWERED
    try:
        result = engine.run(caller=caller, message=message, history=history, toolbox=toolbox)
    except OpenAIError as exc:
        # The model is down or refused us: the built-in engine still answers.
        logger.warning("assistant model failed: %s", exc)
        toolbox = Toolbox(caller)
        engine, outcome = builtin, AssistantLog.Outcome.FAILED
        result = builtin.run(caller=caller, message=message, history=history, toolbox=toolbox)
    _spend_tokens(caller, result.tokens)
    calls = result.calls
    # A refusal's words ("no Riverside for you") are not facts an answer may use.
    evidence = grounding.evidence_from([c.result for c in calls if not c.refused])
    names = vocabulary["class_types"] + vocabulary["categories"] + vocabulary["branches"]
    missing = grounding.ungrounded_facts(result.answer, evidence, names=names, question=message)
    shown = result.answer
    if missing or not shown.strip():
        shown = render.from_calls(calls)
        outcome = AssistantLog.Outcome.REPLACED if missing else outcome
    confirmations = [c.result for c in calls if c.result.get("confirmation_required")]
    confirmation = None
    if confirmations:
        last = confirmations[-1]
        confirmation = {
            "token": last["confirmation_token"],
            "summary": last["summary"],
            "action": last["action"],
            "expires_in_seconds": last["expires_in_seconds"],
        }
        if outcome == AssistantLog.Outcome.ANSWERED:
            outcome = AssistantLog.Outcome.CONFIRM
    classes = [
        row for c in calls for row in c.result.get("classes", []) if c.name == "find_classes"
    ]
    reply = Reply(
        shown,
        engine.name,
        outcome,
        confirmation=confirmation,
        classes=classes,
        tools=[c.name for c in calls],
    )
    _log(
        caller,
        surface=surface,
        engine=engine.name,
        question=message,
        reply=reply,
        model_answer=result.answer if engine is model else "",
        tool_calls=[redacted(c) for c in calls],
        ungrounded=missing,
        tokens=result.tokens,
    )
    return reply


def assistant_confirm(*, caller: Caller, token: str, surface: str = "api") -> Reply:
    """Do the action the person confirmed (book, cancel, waitlist) through its service."""
    with tenant_scope(caller.organisation.pk, caller.branch_ids):
        setting = _setting(caller)
        _rate_limit(caller, setting)
        try:
            result = confirm_action(caller, token)
        except ServiceError as exc:
            reply = Reply(
                _("That didn't work: %(reason)s") % {"reason": exc.message},
                "builtin",
                AssistantLog.Outcome.CONFIRMED,
            )
            _log(caller, surface=surface, engine="builtin", question="[confirm]", reply=reply)
            raise
        reply = Reply(result["message"], "builtin", AssistantLog.Outcome.CONFIRMED)
        _log(
            caller,
            surface=surface,
            engine="builtin",
            question="[confirm]",
            reply=reply,
            tool_calls=[{"confirmed": result.get("status"), "booking_id": result["booking_id"]}],
        )
        return reply


def assistant_tool(*, caller: Caller, name: str, arguments: dict, surface: str = "mcp") -> dict:
    """One tool call from an MCP client, under the same switch, limits and log as a chat."""
    with tenant_scope(caller.organisation.pk, caller.branch_ids):
        setting = _setting(caller)
        _rate_limit(caller, setting)
        _claim_request(caller, setting)
        call = call_tool(caller, name, arguments)
        reply = Reply(
            render.one(call),
            "mcp",
            AssistantLog.Outcome.CONFIRM
            if call.result.get("confirmation_required")
            else AssistantLog.Outcome.ANSWERED,
        )
        _log(
            caller,
            surface=surface,
            engine="mcp",
            question=f"[{name}]",
            reply=reply,
            tool_calls=[redacted(call)],
        )
        return call.result
