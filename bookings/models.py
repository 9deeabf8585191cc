import secrets

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field


class BookingPolicy(TenantModel):
    """The booking rules of an organisation, or of one class type when ``class_type`` is set.

    The class type's row wins over the organisation's; without either the field
    defaults below apply.
    """

    class Penalty(models.TextChoices):
        FORFEIT = "forfeit", _("Credit forfeited")
        FEE = "fee", _("Credit forfeited and a fee charged")
        NONE = "none", _("No penalty (credit returned)")

    class_type = models.OneToOneField(
        "classes.ClassType",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="booking_policy",
        verbose_name=_("class type"),
        help_text=_("Leave empty for the organisation's default rules."),
    )
    booking_opens_days = models.PositiveSmallIntegerField(
        _("booking opens (days before)"), default=7, validators=[MaxValueValidator(365)]
    )
    booking_closes_minutes = models.PositiveIntegerField(
        _("booking closes (minutes before start)"), default=0
    )
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        _("free cancellation until (minutes before start)"), default=120
    )
    late_cancel_penalty = models.CharField(
        _("late cancellation"), max_length=10, choices=Penalty.choices, default=Penalty.FORFEIT
    )
    late_cancel_fee = amount_field(_("late cancellation fee"), default=0)
    no_show_penalty = models.CharField(
        _("no-show"), max_length=10, choices=Penalty.choices, default=Penalty.FORFEIT
    )
    no_show_fee = amount_field(_("no-show fee"), default=0)
    currency = currency_field(verbose_name=_("currency"))
    waitlist_enabled = models.BooleanField(_("waitlist"), default=True)
    promotion_cutoff_minutes = models.PositiveIntegerField(
        _("stop promoting from the waitlist (minutes before start)"),
        default=60,
        help_text=_("Nobody is moved into a class this close to its start."),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before)"), default=24, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("booking policy")
        verbose_name_plural = _("booking policies")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(class_type__isnull=True),
                name="one_default_booking_policy_per_organisation",
            ),
            models.CheckConstraint(
                condition=Q(late_cancel_fee__gte=0) & Q(no_show_fee__gte=0),
                name="booking_policy_fees_not_negative",
            ),
        ]

    def __str__(self):
        return str(self.class_type) if self.class_type_id else str(_("Default rules"))


class Booking(TenantModel):
    """A member's place (or waitlist place) in a class session.

    Status changes only through the named transitions in ``bookings.services``.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        WAITLISTED = "waitlisted", _("Waitlisted")
        CANCELLED = "cancelled", _("Cancelled")
        LATE_CANCELLED = "late_cancelled", _("Late cancelled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")

    ACTIVE = (Status.BOOKED, Status.WAITLISTED, Status.ATTENDED, Status.NO_SHOW)

    # No single-column indexes on session and member: the (session, arrival) and
    # (member, status) indexes below lead with them, and every booking writes each
    # index it has (a rush of bookings is the platform's hottest write).
    session = models.ForeignKey(
        "classes.ClassSession", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    membership = models.ForeignKey(
        "memberships.Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        help_text=_("The membership the place was taken on."),
    )
    credit_held = models.BooleanField(
        _("credit held"), default=False, help_text=_("A class credit was taken for this place.")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    arrival = models.PositiveIntegerField(
        _("arrival"), help_text=_("Order in which requests for this session were served.")
    )
    booked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_override = models.BooleanField(
        _("staff override"), default=False, help_text=_("Booked by staff past the rules.")
    )
    override_reason = models.CharField(_("override reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    promoted_at = models.DateTimeField(_("promoted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=255, blank=True)
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    fee_charged = amount_field(_("fee charged"), default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    tenant_branch_path = "session__branch"

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["session__starts_at", "arrival"]
        constraints = [
            # One place per member per session, whatever the concurrency.
            models.UniqueConstraint(
                fields=["session", "member"],
                condition=Q(status__in=["booked", "waitlisted", "attended", "no_show"]),
                name="booking_one_active_per_member_and_session",
            ),
            models.UniqueConstraint(fields=["session", "arrival"], name="booking_arrival_unique"),
        ]
        indexes = [
            models.Index(fields=["member", "status"]),
            models.Index(
                fields=["session", "arrival"],
                condition=Q(status="waitlisted"),
                name="booking_waitlist_order",
            ),
        ]

    def __str__(self):
        # Read in admin lists and audit rows: the person, the class and what happened,
        # in words ("Yusuf Jackson, Vinyasa Flow on Wed 2 Dec 18:30: Attended").
        return _("%(member)s, %(session)s: %(status)s") % {
            "member": self.member,
            "session": self.session,
            "status": self.get_status_display(),
        }


class AppointmentService(TenantModel):
    """Something booked one-to-one with a trainer, e.g. "60-minute personal training"."""

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    price = amount_field(_("price"), default=0, validators=[MinValueValidator(0)])
    currency = currency_field(verbose_name=_("currency"))
    # Each rule below left empty follows the gym's default booking rules (the
    # BookingPolicy without a class type), as class bookings do.
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        _("free cancellation until (minutes before)"),
        null=True,
        blank=True,
        default=24 * 60,
        help_text=_("Empty: the gym's default booking rules apply."),
    )
    late_cancel_fee = amount_field(
        _("late cancellation fee"),
        null=True,
        blank=True,
        help_text=_(
            "Charged on the next invoice when cancelled after the free cancellation time. "
            "Empty: the gym's default booking rules apply (their fee, if they charge one)."
        ),
    )
    no_show_fee = amount_field(
        _("no-show fee"),
        null=True,
        blank=True,
        help_text=_(
            "Charged on the next invoice when the trainer marks a no-show. "
            "Empty: the gym's default booking rules apply (their fee, if they charge one)."
        ),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder (hours before)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: the gym's default booking rules apply."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("appointment service")
        verbose_name_plural = _("appointment services")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(late_cancel_fee__isnull=True) | Q(late_cancel_fee__gte=0))
                & (Q(no_show_fee__isnull=True) | Q(no_show_fee__gte=0)),
                name="appointment_service_fees_not_negative",
            ),
        ]

    def __str__(self):
        return self.name


class TrainerAvailability(TenantModel):
    """A weekly window (local time of the branch) in which a trainer takes appointments."""

    trainer = models.ForeignKey(
        "accounts.TrainerProfile", on_delete=models.CASCADE, related_name="availability"
    )
    branch = models.ForeignKey("accounts.Branch", on_delete=models.CASCADE, related_name="+")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("trainer availability")
        verbose_name_plural = _("trainer availability")
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="availability_window_ordered"
            )
        ]

    def __str__(self):
        return f"{self.trainer} {self.weekday} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


def _id_range(field: str) -> Func:
    # A one-value range of the id: lets a plain GiST index (no btree_gist) compare
    # ids with "&&", so one exclusion constraint covers "same trainer AND overlap".
    return Func(F(field), F(field), Value("[]"), function="int8range")


def _time_range() -> Func:
    return Func(F("starts_at"), F("ends_at"), Value("[)"), function="tstzrange")


APPOINTMENT_ACTIVE = Q(status__in=["booked", "attended", "no_show"])


class Appointment(TenantModel):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        LATE_CANCELLED = "late_cancelled", _("Late cancelled")
        ATTENDED = "attended", _("Attended")
        NO_SHOW = "no_show", _("No-show")

    service = models.ForeignKey(
        AppointmentService, on_delete=models.PROTECT, related_name="appointments"
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile", on_delete=models.PROTECT, related_name="appointments"
    )
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.PROTECT, related_name="appointments"
    )
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.BOOKED
    )
    booked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attendance_marked_at = models.DateTimeField(null=True, blank=True, editable=False)
    fee_charged = amount_field(_("fee charged"), default=0, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The service's price when booked (a later price change does not touch it). It
    # goes on the member's account once the slot is used up: when the appointment
    # ends (attended or not) or at a late cancellation. ``billed_at`` says when; it
    # is also set, with nothing charged, for a free service and for appointments
    # that ended before prices were billed (migration 0004).
    price = amount_field(_("price"), default=0, editable=False)
    billed_at = models.DateTimeField(_("billed"), null=True, blank=True, editable=False)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            ExclusionConstraint(
                name="appointment_trainer_not_double_booked",
                expressions=[
                    (_id_range("trainer_id"), RangeOperators.OVERLAPS),
                    (_time_range(), RangeOperators.OVERLAPS),
                ],
                condition=APPOINTMENT_ACTIVE,
            ),
            ExclusionConstraint(
                name="appointment_member_not_double_booked",
                expressions=[
                    (_id_range("member_id"), RangeOperators.OVERLAPS),
                    (_time_range(), RangeOperators.OVERLAPS),
                ],
                condition=APPOINTMENT_ACTIVE,
            ),
        ]
        indexes = [
            # The billing job's sweep: ended appointments whose price is not settled.
            models.Index(
                fields=["ends_at"],
                name="appointment_unbilled",
                condition=Q(billed_at__isnull=True) & APPOINTMENT_ACTIVE,
            )
        ]

    def __str__(self):
        return f"{self.service} · {self.trainer} · {self.member} {self.starts_at:%Y-%m-%d %H:%M}"


def _new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(TenantModel):
    """The secret address of a member's iCalendar feed (calendar apps cannot sign in)."""

    member = models.OneToOneField(
        "accounts.Member", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self):
        return f"{self.member} calendar"
