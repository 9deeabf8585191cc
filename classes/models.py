from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import TenantModel


class ClassCategory(TenantModel):
    """A family of classes (yoga, HIIT, spin). Plans may be limited to some categories."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"))

    class Meta:
        verbose_name = _("class category")
        verbose_name_plural = _("class categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="class_category_slug_unique"
            )
        ]

    def __str__(self):
        return self.name


def class_type_image_path(instance, filename):
    return f"org-{instance.organisation_id}/classes/{filename}"


class ClassType(TenantModel):
    """What is taught (Vinyasa Yoga, Spin 45). Retired, never deleted: sessions refer to it."""

    class Level(models.TextChoices):
        ALL = "all", _("All levels")
        BEGINNER = "beginner", _("Beginner")
        INTERMEDIATE = "intermediate", _("Intermediate")
        ADVANCED = "advanced", _("Advanced")

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"))
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        ClassCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="class_types",
        verbose_name=_("category"),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=60, validators=[MinValueValidator(5)]
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.ALL)
    default_capacity = models.PositiveSmallIntegerField(
        _("default capacity"), default=20, validators=[MinValueValidator(1)]
    )
    image = models.ImageField(_("image"), upload_to=class_type_image_path, blank=True)
    required_certifications = models.ManyToManyField(
        "accounts.Certification",
        blank=True,
        related_name="+",
        verbose_name=_("required certifications"),
        help_text=_("A trainer must hold each, unexpired, to be scheduled for this class."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("class type")
        verbose_name_plural = _("class types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="class_type_slug_unique")
        ]

    def __str__(self):
        return self.name


class Room(TenantModel):
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="rooms", verbose_name=_("branch")
    )
    name = models.CharField(_("name"), max_length=100)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), validators=[MinValueValidator(1)], help_text=_("Most people it holds.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["branch__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "name"], name="room_name_unique_per_branch")
        ]

    def __str__(self):
        return f"{self.name} ({self.branch.name})"


class ClassSchedule(TenantModel):
    """A recurring class: weekdays and a local start time in the branch's time zone.

    Sessions are materialised from it ahead of time (``classes.services.
    schedule_materialise``); the wall-clock time is kept, so a 07:00 class stays at
    07:00 local time across daylight-saving changes.
    """

    branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.PROTECT,
        related_name="class_schedules",
        verbose_name=_("branch"),
    )
    class_type = models.ForeignKey(
        ClassType, on_delete=models.PROTECT, related_name="schedules", verbose_name=_("class type")
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schedules",
        verbose_name=_("room"),
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="class_schedules",
        verbose_name=_("trainer"),
    )
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        verbose_name=_("weekdays"),
        help_text=_("0 = Monday … 6 = Sunday."),
    )
    start_time = models.TimeField(_("start time (local)"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5)]
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    starts_on = models.DateField(_("first date"))
    ends_on = models.DateField(_("last date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    materialised_until = models.DateField(_("sessions created until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("class schedule")
        verbose_name_plural = _("class schedules")
        ordering = ["branch__name", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="class_schedule_dates_ordered",
            ),
        ]

    def __str__(self):
        days = ", ".join(str(d) for d in sorted(self.weekdays or []))
        return f"{self.class_type} · {self.start_time:%H:%M} [{days}]"


class ScheduleException(TenantModel):
    """A local date on which a recurring class does not run (bank holiday, closure)."""

    schedule = models.ForeignKey(ClassSchedule, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    tenant_branch_path = "schedule__branch"

    class Meta:
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="schedule_exception_unique")
        ]

    def __str__(self):
        return f"{self.schedule} — {self.date}"


class ClassSession(TenantModel):
    """One occurrence of a class, with its own trainer, room and capacity.

    ``booked_count``, ``waitlist_count`` and ``arrival_seq`` are the bookings app's
    counters, kept on this row because the row's lock (``classes.locks.lock_session``)
    is what serialises a session's places: only bookings writes them, the timetable
    only reads them. The check constraint makes overbooking impossible even for a
    buggy caller.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.PROTECT,
        related_name="class_sessions",
        verbose_name=_("branch"),
    )
    class_type = models.ForeignKey(
        ClassType, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("class type")
    )
    schedule = models.ForeignKey(
        ClassSchedule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("schedule"),
    )
    occurrence_date = models.DateField(
        _("date (local)"), help_text=_("The local date the schedule produced this session for.")
    )
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name=_("room"),
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="class_sessions",
        verbose_name=_("trainer"),
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    booked_count = models.PositiveIntegerField(_("booked"), default=0)
    waitlist_count = models.PositiveIntegerField(_("waitlisted"), default=0)
    # Every booking attempt that reaches the lock takes the next number: the
    # arrival order, which decides who gets a place and the waitlist order.
    arrival_seq = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=255, blank=True)
    is_customised = models.BooleanField(
        _("edited individually"),
        default=False,
        help_text=_("Changed on its own, apart from its series."),
    )
    moved_at = models.DateTimeField(
        _("moved"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When staff last moved it to another time."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("class session")
        verbose_name_plural = _("class sessions")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked_count__lte=F("capacity")), name="class_session_not_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="class_session_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["schedule", "occurrence_date"],
                condition=Q(schedule__isnull=False),
                name="class_session_once_per_schedule_date",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "branch", "starts_at"]),
            # The back-office list of the whole gym, in time order.
            models.Index(fields=["organisation", "starts_at", "id"], name="session_org_time"),
        ]

    def __str__(self):
        # In the zone being shown (the admin activates the gym's), not UTC.
        local = timezone.localtime(self.starts_at) if self.starts_at else None
        return (
            f"{self.class_type} {dateformat.format(local, 'D j M H:i')}"
            if local
            else str(self.class_type)
        )

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked_count, 0)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED
