from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field


class Plan(TenantModel):
    """Something a gym sells. Never deleted once sold: retired instead."""

    class Kind(models.TextChoices):
        RECURRING = "recurring", _("Recurring")
        FIXED_TERM = "fixed_term", _("Fixed term")
        CLASS_PACK = "class_pack", _("Class pack")
        ENTRY_TICKET = "entry_ticket", _("Limited-entry ticket")
        UNLIMITED = "unlimited", _("Unlimited")

    class Interval(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    class Status(models.TextChoices):
        ACTIVE = "active", _("On sale")
        RETIRED = "retired", _("Retired")

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    price = amount_field(_("price"), validators=[MinValueValidator(0)])
    currency = currency_field(verbose_name=_("currency"))
    signup_fee = amount_field(_("sign-up fee"), default=0, validators=[MinValueValidator(0)])
    intro_price = amount_field(
        _("intro price"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Price of the first period, if different. 0 for a free first period."),
    )

    # Recurring plans: billed every interval_count intervals.
    billing_interval = models.CharField(
        _("billing interval"), max_length=10, choices=Interval.choices, blank=True
    )
    interval_count = models.PositiveSmallIntegerField(_("every"), default=1)
    auto_renew = models.BooleanField(_("renews automatically"), default=True)
    minimum_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"), default=0)
    notice_period_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=0)

    # Fixed-term plans.
    duration_days = models.PositiveIntegerField(_("duration (days)"), null=True, blank=True)

    # Class packs: N classes expiring M days after purchase.
    credits = models.PositiveIntegerField(_("class credits"), null=True, blank=True)
    credit_validity_days = models.PositiveIntegerField(
        _("credits valid for (days)"), null=True, blank=True
    )
    class_categories = models.ManyToManyField(
        "classes.ClassCategory",
        blank=True,
        related_name="plans",
        verbose_name=_("class categories"),
        help_text=_("Leave empty for every category."),
    )

    # Limited-entry tickets: N visits within a validity window.
    entries = models.PositiveIntegerField(_("entries"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    branches = models.ManyToManyField(
        "accounts.Branch",
        blank=True,
        related_name="plans",
        verbose_name=_("branches"),
        help_text=_("Leave empty for every branch."),
    )
    # Off-peak plans open only between these local times.
    access_from = models.TimeField(_("access from"), null=True, blank=True)
    access_until = models.TimeField(_("access until"), null=True, blank=True)
    weekly_attendance_limit = models.PositiveSmallIntegerField(
        _("classes per week"), null=True, blank=True
    )
    max_freeze_days_per_year = models.PositiveSmallIntegerField(
        _("max freeze days a year"), default=60
    )
    max_freezes_per_year = models.PositiveSmallIntegerField(_("max freezes a year"), default=2)
    min_freeze_days = models.PositiveSmallIntegerField(_("shortest freeze (days)"), default=7)
    features = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, verbose_name=_("features")
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_recurring(self) -> bool:
        return self.kind == self.Kind.RECURRING

    @property
    def first_period_price(self):
        return self.price if self.intro_price is None else self.intro_price


class Membership(TenantModel):
    """A member's membership of a plan, with an explicit status.

    Transitions happen only in ``memberships.services``; each is recorded in
    ``MembershipStatusChange``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Active")
        FROZEN = "frozen", _("Frozen")
        PAST_DUE = "past_due", _("Payment overdue")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="memberships"
    )
    payer = models.ForeignKey(
        "accounts.Member",
        on_delete=models.PROTECT,
        related_name="paid_memberships",
        help_text=_("Who is billed: the member or their household payer."),
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="memberships")
    # Where the membership was sold and is invoiced (tax rate); empty: the member's home
    # branch. Not a tenant branch path: a membership opens every branch its plan opens.
    branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("billing branch"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"), null=True, blank=True)
    current_period_start = models.DateField(_("period start"), null=True, blank=True)
    current_period_end = models.DateField(_("period end"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    price = amount_field(_("price"))
    currency = currency_field(verbose_name=_("currency"))
    credits_remaining = models.PositiveIntegerField(_("credits left"), null=True, blank=True)
    entries_remaining = models.PositiveIntegerField(_("entries left"), null=True, blank=True)
    cancels_on = models.DateField(_("cancels on"), null=True, blank=True)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    cancel_requested_at = models.DateTimeField(_("cancellation requested"), null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_remaining__gte=0) | Q(credits_remaining__isnull=True),
                name="membership_credits_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(entries_remaining__gte=0) | Q(entries_remaining__isnull=True),
                name="membership_entries_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "status"]),
            # The back-office list: a gym's latest starts first.
            models.Index(
                fields=["organisation", "-start_date", "-id"], name="membership_org_newest"
            ),
            models.Index(
                fields=["current_period_end"],
                condition=Q(status="active", auto_renew=True),
                name="membership_renewal_due",
            ),
        ]

    def __str__(self):
        return f"{self.member} — {self.plan}"

    @property
    def billing_branch_id(self) -> int:
        return self.branch_id or self.member.home_branch_id


class MembershipStatusChange(TenantModel):
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=Membership.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Membership.Status.choices)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class MembershipFreeze(TenantModel):
    """A hold on a membership for a date range (inclusive). While it runs the
    membership is frozen; when it starts, the period end (and end date) move back by
    its length, so the member pays nothing for frozen days."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("In progress")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="freezes")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"))
    # Set when the freeze ends early (unfrozen before end_date): the last frozen day.
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("freeze")
        verbose_name_plural = _("freezes")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="freeze_dates_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "start_date"])]

    def __str__(self):
        return f"{self.start_date} – {self.end_date}"

    @property
    def days(self) -> int:
        last = self.ended_on or self.end_date
        return (last - self.start_date).days + 1


class PlanChange(TenantModel):
    """An upgrade or downgrade between recurring plans, prorated by days.

    An upgrade waits for its invoice to be paid, then applies; a downgrade applies at
    once and the unused difference is refunded (or credited on an unpaid invoice).
    """

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        APPLIED = "applied", _("Applied")
        CANCELLED = "cancelled", _("Cancelled")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="changes")
    from_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    to_plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    effective_date = models.DateField(_("effective"))
    new_period_end = models.DateField(_("new period end"))
    credit = amount_field(_("credit for unused time"))
    charge = amount_field(_("charge for the new plan"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("plan change")
        verbose_name_plural = _("plan changes")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.from_plan} → {self.to_plan}"
