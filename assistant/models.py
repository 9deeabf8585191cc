"""Switches, budgets and the review log of the gym's assistant."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


class AssistantSetting(TenantModel):
    """Whether the assistant answers, and how much it may cost, for a gym or one branch.

    The row without a branch is the gym's; a branch row overrides it for people whose
    question is about that branch (a member's home branch, a one-branch staff member).
    No row at all: the assistant is off (it costs money when a model is configured).
    """

    branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("branch"),
        help_text=_("Empty: the whole gym."),
    )
    is_enabled = models.BooleanField(_("enabled"), default=False)
    daily_requests_per_person = models.PositiveIntegerField(
        _("questions a day per person"), default=50
    )
    daily_tokens = models.PositiveIntegerField(
        _("model tokens a day for the gym"),
        default=200_000,
        help_text=_("Counted from what the model reports; the built-in engine uses none."),
    )
    requests_per_minute = models.PositiveSmallIntegerField(
        _("questions a minute per person"), default=10
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("assistant setting")
        verbose_name_plural = _("assistant settings")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "branch"],
                name="assistant_setting_once_per_branch",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return str(self.branch or _("Whole gym"))


class AssistantUsage(TenantModel):
    """Counters of one day: per person (``user`` set) or the gym's tokens (``user`` empty).

    Raised with conditional ``UPDATE ... WHERE used < limit`` so a flood of parallel
    questions cannot overspend: the row count says whether this question may run.
    """

    day = models.DateField(_("day"))
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requests = models.PositiveIntegerField(_("questions"), default=0)
    tokens = models.PositiveIntegerField(_("tokens"), default=0)

    class Meta:
        verbose_name = _("assistant usage")
        verbose_name_plural = _("assistant usage")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "day", "user"],
                name="assistant_usage_once_per_day",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"{self.day} {self.user or '-'}: {self.requests} / {self.tokens}"


class AssistantLog(TenantModel):
    """One question and what the assistant did, for staff review.

    Holds the question, the answer shown, the tool calls with their results and the
    engine's verdicts. Tools never return payment details (cards, Stripe ids), so
    nothing here is payment data.
    """

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Answered")
        REPLACED = "replaced", _("Answer replaced (ungrounded)")
        REFUSED = "refused", _("Out of scope")
        CONFIRM = "confirm", _("Asked for confirmation")
        CONFIRMED = "confirmed", _("Action confirmed")
        FAILED = "failed", _("Engine failed")

    user = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(_("role"), max_length=12)
    surface = models.CharField(_("surface"), max_length=12)
    engine = models.CharField(_("engine"), max_length=20)
    question = models.TextField(_("question"))
    answer = models.TextField(_("answer shown"))
    model_answer = models.TextField(_("model's own answer"), blank=True)
    tool_calls = models.JSONField(_("tool calls"), default=list)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    ungrounded = models.JSONField(_("facts not found in tool results"), default=list)
    tokens = models.PositiveIntegerField(_("tokens"), default=0)
    created_at = models.DateTimeField(_("asked"), default=timezone.now, db_index=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("assistant conversation turn")
        verbose_name_plural = _("assistant log")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.question[:60]}"
