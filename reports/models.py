"""Daily rollups (per branch and local day) and the at-risk work list.

Rollup rows are written only by ``reports.rollups`` (set-based SQL); every figure
a report shows for a past day is read from here, today's from the live tables.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field

HOURS = 24


def _zero_hours():
    return [0] * HOURS


class DailyFigures(TenantModel):
    """One branch's figures for one of its local days."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # Members
    signups = models.IntegerField(default=0)
    memberships_started = models.IntegerField(default=0)
    memberships_ended = models.IntegerField(default=0)
    cancellations = models.IntegerField(default=0)
    # Door
    checkins = models.IntegerField(default=0)
    checkins_by_hour = ArrayField(models.IntegerField(), size=HOURS, default=_zero_hours)
    # Classes (by the session's local day)
    sessions = models.IntegerField(default=0)
    capacity = models.IntegerField(default=0)
    booked = models.IntegerField(default=0)
    attended = models.IntegerField(default=0)
    no_shows = models.IntegerField(default=0)
    late_cancels = models.IntegerField(default=0)
    waitlisted = models.IntegerField(default=0)
    pt_sessions = models.IntegerField(default=0)
    # Money: invoiced net of tax, credit notes net of tax, tax apart; cash by payment.
    invoiced_net = amount_field(default=0)
    invoiced_tax = amount_field(default=0)
    credited_net = amount_field(default=0)
    credited_tax = amount_field(default=0)
    collected = amount_field(default=0)
    refunded = amount_field(default=0)
    failed_payments = models.IntegerField(default=0)
    # Shop
    shop_units = models.IntegerField(default=0)
    shop_net = amount_field(default=0)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="reports_daily_branch_day")
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="reports_daily_org_day")]

    def __str__(self):
        return f"{self.branch_id} {self.day}"


class DailyBreakdown(TenantModel):
    """A figure split by a dimension (plan, category, payment method, reason…)."""

    class Kind(models.TextChoices):
        REVENUE_PLAN = "revenue_plan", _("Revenue by plan")
        REVENUE_CATEGORY = "revenue_category", _("Revenue by product category")
        REVENUE_OTHER = "revenue_other", _("Other revenue")
        COLLECTED_METHOD = "collected_method", _("Collected by payment method")
        STARTED_PLAN = "started_plan", _("Memberships started by plan")
        ENDED_PLAN = "ended_plan", _("Memberships ended by plan")
        CANCEL_REASON = "cancel_reason", _("Cancellations by reason")
        PRODUCT_SALES = "product_sales", _("Product sales")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=255)
    amount = amount_field(default=0)
    tax = amount_field(default=0)
    count = models.IntegerField(default=0)

    tenant_branch_path = "branch"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "day", "kind", "key"], name="reports_breakdown_unique"
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "kind", "day"], name="reports_breakdown_kind_day")
        ]

    def __str__(self):
        return f"{self.kind} {self.key} {self.day}"


class RollupState(TenantModel):
    """The fold job's watermark: every change before ``folded_until`` is in the rollups."""

    folded_until = models.DateTimeField(null=True, blank=True)
    access_log_id = models.BigIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)
    last_days = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="reports_rollup_state_unique")
        ]

    def __str__(self):
        return f"folded until {self.folded_until}"


class AtRiskContact(TenantModel):
    """Staff working through the at-risk list: who was called, what they noted."""

    class Outcome(models.TextChoices):
        CALLED = "called", _("Called")
        MESSAGED = "messaged", _("Messaged")
        NO_ANSWER = "no_answer", _("No answer")
        NOTE = "note", _("Note only")

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="+", verbose_name=_("member")
    )
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch")
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    reasons = models.JSONField(_("reasons at the time"), default=list, blank=True)
    contacted_at = models.DateTimeField(_("contacted"), default=timezone.now)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("at-risk contact")
        verbose_name_plural = _("at-risk contacts")
        indexes = [models.Index(fields=["member", "-contacted_at"], name="reports_contact_member")]

    def __str__(self):
        return f"{self.member_id} {self.outcome}"


class SummarySubscription(TenantModel):
    """An owner or branch manager who asked for the weekly summary email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    weekly = models.BooleanField(_("weekly summary email"), default=True)
    last_sent_week = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("summary subscription")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="reports_subscription_unique"
            )
        ]

    def __str__(self):
        return str(self.user_id)


class MemberMonthVisits(TenantModel):
    """A member's visits in one local month (the at-risk list compares months)."""

    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    visits = models.IntegerField(default=0)
    last_visit = models.DateTimeField()

    tenant_branch_path = "member__home_branch"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="reports_member_month_unique")
        ]
        indexes = [models.Index(fields=["organisation", "month"], name="reports_visits_org_month")]

    def __str__(self):
        return f"{self.member_id} {self.month}: {self.visits}"


class MonthlyMrr(TenantModel):
    """Monthly recurring revenue at a month's end at one branch, with the month's moves."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The month's last day.")
    mrr = amount_field(default=0)
    new = amount_field(default=0)
    reactivated = amount_field(default=0)
    expansion = amount_field(default=0)
    contraction = amount_field(default=0)
    churned = amount_field(default=0)

    tenant_branch_path = "branch"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "month"], name="reports_mrr_branch_month")
        ]

    def __str__(self):
        return f"{self.branch_id} {self.month}: {self.mrr}"
