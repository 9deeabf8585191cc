"""Staff: invitations, employments, pay rates, shifts and payroll.

A layer above bookings: payroll reads what happened (classes taught, attendance,
appointments held, sales) and records each pay line with the row it came from.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field

# Who may invite whom: a role invites only the roles below it.
ROLE_RANK = {Role.OWNER: 3, Role.BRANCH_MANAGER: 2, Role.FRONT_DESK: 1, Role.TRAINER: 1}


def token_digest(token: str) -> str:
    """Invitation links carry the token; the database keeps only its digest."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(TenantModel):
    """An invitation by email to one role at one or more branches (none for an owner).

    Single use: accepting claims it with a conditional update. The invitee's case
    (a new account, a member of this gym, a login of another gym) is decided when
    the link is opened, from who the email is then, and recorded on acceptance.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the invitee")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    class Case(models.TextChoices):
        NEW_ACCOUNT = "new_account", _("Created an account")
        MEMBER_HERE = "member_here", _("Member of this gym")
        EXISTING_LOGIN = "existing_login", _("Existing login")

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    branches = models.ManyToManyField(
        "accounts.Branch", blank=True, related_name="+", verbose_name=_("branches")
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    invited_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("last sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.CharField(_("case"), max_length=16, choices=Case.choices, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per person and role: a second one is a resend.
            models.UniqueConstraint(
                fields=["organisation", "email", "role"],
                condition=Q(status="pending"),
                name="staff_invitation_one_pending",
            ),
        ]

    def __str__(self):
        return f"{self.email} — {self.get_role_display()}"

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    @classmethod
    def open_q(cls, now) -> Q:
        """The invitations a link may still be accepted with (the claim's WHERE)."""
        return Q(status=cls.Status.PENDING, expires_at__gt=now)


class Employment(TenantModel):
    """Someone working at this gym, from the day they joined to the day they left.

    Their roles are ``accounts.RoleAssignment`` rows while it lasts; when it ends the
    roles go and this row (with everything they did) stays.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(ended_at__isnull=True),
                name="staff_one_current_employment",
            )
        ]

    def __str__(self):
        return str(self.user)


class PayRate(TenantModel):
    """What one person earns for one kind of work, from a date on.

    Rates are never edited: a change is a new row with a later ``effective_from``,
    so the work of any day is paid at the rate of that day, and a period already
    paid keeps its lines (they are stored, and a locked period is never recomputed).
    The most specific rate wins (a class type's over "any class").
    """

    class Kind(models.TextChoices):
        CLASS = "class", _("Teaching a class")
        APPOINTMENT = "appointment", _("Personal training appointment")
        SHIFT = "shift", _("Shift (per hour)")
        SALES_COMMISSION = "sales_commission", _("Commission on sales")
        PT_COMMISSION = "pt_commission", _("Commission on personal training")

    COMMISSIONS = (Kind.SALES_COMMISSION, Kind.PT_COMMISSION)

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind of work"), max_length=20, choices=Kind.choices)
    class_type = models.ForeignKey(
        "classes.ClassType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: any class."),
    )
    service = models.ForeignKey(
        "bookings.AppointmentService",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: any appointment."),
    )
    amount = amount_field(
        _("amount"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Per class or appointment (flat), or per hour for a shift."),
    )
    per_attendee = amount_field(_("per attendee"), default=0, validators=[MinValueValidator(0)])
    attendee_threshold = models.PositiveSmallIntegerField(
        _("attendees before the per-attendee amount"), default=0
    )
    percent = models.DecimalField(
        _("commission %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    currency = currency_field(verbose_name=_("currency"))
    effective_from = models.DateField(_("effective from"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("pay rate")
        verbose_name_plural = _("pay rates")
        ordering = ["user", "kind", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user", "kind", "class_type", "service", "effective_from"],
                name="staff_pay_rate_once_per_day",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(class_type__isnull=True) | Q(kind="class"),
                name="staff_pay_rate_class_type_for_classes",
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=True) | Q(kind__in=["appointment", "pt_commission"]),
                name="staff_pay_rate_service_for_appointments",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_kind_display()} from {self.effective_from}"


class Shift(TenantModel):
    """A planned shift at a branch (the rota), and the clock-in and clock-out at the
    front desk. A shift still clocked in well after its end is flagged for a manager,
    never closed with a guessed time."""

    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    clock_in_at = models.DateTimeField(_("clocked in"), null=True, blank=True)
    clock_out_at = models.DateTimeField(_("clocked out"), null=True, blank=True)
    clock_out_missed_at = models.DateTimeField(
        _("missed clock-out flagged"), null=True, blank=True, editable=False
    )
    correction_reason = models.CharField(_("correction"), max_length=255, blank=True)
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="staff_shift_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(clock_out_at__isnull=True)
                | (Q(clock_in_at__isnull=False) & Q(clock_out_at__gt=F("clock_in_at"))),
                name="staff_shift_clock_out_after_in",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "branch", "starts_at"])]

    def __str__(self):
        return f"{self.user} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.clock_in_at is not None and self.clock_out_at is None


class PayPeriod(TenantModel):
    """A branch's pay period: open (computed as often as wanted, adjusted), approved,
    then locked for good. Late corrections go into a later period as adjustments."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        LOCKED = "locked", _("Locked")

    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    currency = currency_field(verbose_name=_("currency"))
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)
    locked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The total when locked: what was paid, kept beside the lines it summed.
    locked_total = amount_field(_("total paid"), null=True, blank=True, editable=False)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("pay period")
        verbose_name_plural = _("pay periods")
        ordering = ["-starts_on", "branch"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "starts_on"], name="staff_period_start"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="staff_period_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="locked") | Q(locked_total__isnull=False),
                name="staff_period_locked_has_total",
            ),
        ]

    def __str__(self):
        return f"{self.branch} {self.starts_on:%d/%m/%Y}–{self.ends_on:%d/%m/%Y}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.OPEN


class PayLine(TenantModel):
    """One amount owed to one person, with where it came from (``source_type`` and
    ``source_id``: the class session, appointment, shift or order, or nothing for a
    manager's adjustment, which has a reason)."""

    class Kind(models.TextChoices):
        CLASS = "class", _("Class taught")
        APPOINTMENT = "appointment", _("Appointment held")
        SHIFT = "shift", _("Shift")
        SALES_COMMISSION = "sales_commission", _("Sales commission")
        PT_COMMISSION = "pt_commission", _("Personal training commission")
        ADJUSTMENT = "adjustment", _("Adjustment")

    period = models.ForeignKey(PayPeriod, on_delete=models.PROTECT, related_name="lines")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    work_date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=255)
    source_type = models.CharField(max_length=60, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2, default=1)
    rate = models.ForeignKey(
        PayRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = amount_field(_("amount"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_branch_path = "period__branch"

    class Meta:
        verbose_name = _("pay line")
        verbose_name_plural = _("pay lines")
        ordering = ["user", "work_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | ~Q(reason=""),
                name="staff_adjustment_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["period", "user"])]

    def __str__(self):
        return f"{self.user} {self.description} {self.amount}"
