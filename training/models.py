"""Exercises, plans (versioned), workout logs, records, body metrics, photos, nutrition.

Whose data it is: every member-owned row carries ``member`` and is branch-bound
through the member's home branch (``tenant_branch_path = "member__home_branch"``),
so a branch manager reaches only their branch's members. Who else may read it (the
member's trainers, never the front desk) is ``training.selectors.viewer_of``.
"""

import uuid
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import (
    TenantModel,
    TenantQuery,
    TenantQuerySet,
    require_scope,
)
from gymsite.errors import NotAllowed
from training.prescription import validate_prescription

MEMBER_BRANCH = "member__home_branch"


class Category(models.TextChoices):
    STRENGTH = "strength", _("Strength")
    CARDIO = "cardio", _("Cardio")
    MOBILITY = "mobility", _("Mobility")
    PLYOMETRIC = "plyometric", _("Plyometric")
    CORE = "core", _("Core")
    OLYMPIC = "olympic", _("Olympic lifting")
    STRETCHING = "stretching", _("Stretching")


class Muscle(models.TextChoices):
    CHEST = "chest", _("Chest")
    UPPER_BACK = "upper_back", _("Upper back")
    LATS = "lats", _("Lats")
    TRAPS = "traps", _("Traps")
    SHOULDERS = "shoulders", _("Shoulders")
    BICEPS = "biceps", _("Biceps")
    TRICEPS = "triceps", _("Triceps")
    FOREARMS = "forearms", _("Forearms")
    ABS = "abs", _("Abs")
    OBLIQUES = "obliques", _("Obliques")
    LOWER_BACK = "lower_back", _("Lower back")
    GLUTES = "glutes", _("Glutes")
    QUADS = "quads", _("Quadriceps")
    HAMSTRINGS = "hamstrings", _("Hamstrings")
    CALVES = "calves", _("Calves")
    ADDUCTORS = "adductors", _("Adductors")
    HIP_FLEXORS = "hip_flexors", _("Hip flexors")
    FULL_BODY = "full_body", _("Full body")


class Equipment(models.TextChoices):
    BODYWEIGHT = "bodyweight", _("Bodyweight")
    BARBELL = "barbell", _("Barbell")
    DUMBBELL = "dumbbell", _("Dumbbell")
    KETTLEBELL = "kettlebell", _("Kettlebell")
    MACHINE = "machine", _("Machine")
    CABLE = "cable", _("Cable")
    BAND = "band", _("Resistance band")
    PULLUP_BAR = "pullup_bar", _("Pull-up bar")
    BENCH = "bench", _("Bench")
    MEDICINE_BALL = "medicine_ball", _("Medicine ball")
    BOX = "box", _("Plyo box")
    TREADMILL = "treadmill", _("Treadmill")
    BIKE = "bike", _("Bike")
    ROWER = "rower", _("Rowing machine")
    SKI_ERG = "ski_erg", _("Ski erg")
    SLED = "sled", _("Sled")
    ROPE = "rope", _("Rope")
    SUSPENSION = "suspension", _("Suspension trainer")
    OTHER = "other", _("Other")


def _muscles_field(verbose_name):
    return ArrayField(
        models.CharField(max_length=20, choices=Muscle.choices),
        verbose_name=verbose_name,
        default=list,
        blank=True,
    )


class LibraryQuery(TenantQuery):
    """Reads see the gym's own exercises and the shared starter library."""

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        if not self.tenant_pending:
            return super().get_compiler(using, connection, elide_empty)
        scoped = self.clone()
        scoped.add_q(
            Q(organisation_id=require_scope().organisation_id) | Q(organisation__isnull=True)
        )
        scoped.tenant_pending = False
        return scoped.get_compiler(using, connection, elide_empty)


class LibraryQuerySet(TenantQuerySet):
    def __init__(self, model=None, query=None, using=None, hints=None):
        super(TenantQuerySet, self).__init__(model, query or LibraryQuery(model), using, hints)

    # Writes (update, delete) keep TenantQuerySet's filter: the gym's own rows only,
    # so no gym can change or remove the shared library.


class LibraryManager(models.Manager.from_queryset(LibraryQuerySet)):
    pass


class Exercise(TenantModel):
    """One exercise: the gym's own (``organisation`` set) or the shared starter library
    (``organisation`` empty, loaded by migration 0002, read-only for every gym)."""

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        null=True,
        blank=True,
    )
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    cues = models.TextField(_("coaching cues"), blank=True, help_text=_("One cue a line."))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    primary_muscles = _muscles_field(_("primary muscles"))
    secondary_muscles = _muscles_field(_("secondary muscles"))
    equipment = models.CharField(
        _("equipment"), max_length=20, choices=Equipment.choices, default=Equipment.BODYWEIGHT
    )
    image = models.ImageField(
        _("image"), upload_to="training/exercises/", blank=True, max_length=255
    )
    video_url = models.URLField(_("video link"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = LibraryManager()

    class Meta:
        verbose_name = _("exercise")
        verbose_name_plural = _("exercises")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="exercise_name_unique_per_gym"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(organisation__isnull=True),
                name="exercise_name_unique_in_shared_library",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.organisation_id is None

    def check_scope_for_save(self) -> None:
        if self.pk and self.organisation_id is None and not self._state.adding:
            raise NotAllowed(_("The shared exercise library is read-only."), code="shared")
        super().check_scope_for_save()

    @property
    def cue_list(self) -> list[str]:
        return [line.strip() for line in self.cues.splitlines() if line.strip()]


class Plan(TenantModel):
    """A workout plan: a template, or one member's plan (copied from a template or
    built for them). Its content lives in versions; ``current_version`` is what an
    edit changes and what a new workout follows."""

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    member = models.ForeignKey(
        "accounts.Member",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="training_plans",
        verbose_name=_("member"),
        help_text=_("Empty for a template."),
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_plans",
        verbose_name=_("trainer"),
    )
    is_template = models.BooleanField(_("template"), default=False)
    source = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="copies",
        verbose_name=_("copied from"),
        editable=False,
    )
    current_version = models.ForeignKey(
        "PlanVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("workout plan")
        verbose_name_plural = _("workout plans")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_template=False) | Q(member__isnull=True),
                name="training_template_has_no_member",
            )
        ]

    def __str__(self):
        return self.name


class PlanVersion(TenantModel):
    """A frozen-once-used copy of a plan's days and exercises. The first workout logged
    against a version freezes it: the next edit makes version n+1 (copy on write), so
    what a member logged always points at the plan as it was."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = "plan__member__home_branch"

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique")
        ]

    def __str__(self):
        return f"{self.plan} v{self.number}"


class PlanDay(TenantModel):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="days")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=100)
    notes = models.TextField(_("notes"), blank=True)

    tenant_branch_path = "version__plan__member__home_branch"

    class Meta:
        verbose_name = _("plan day")
        verbose_name_plural = _("plan days")
        ordering = ["version", "position", "pk"]

    def __str__(self):
        return self.name


class PlanExercise(TenantModel):
    """One exercise of a day, in order, with its prescription (validated JSON)."""

    day = models.ForeignKey(PlanDay, on_delete=models.CASCADE, related_name="exercises")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    exercise = models.ForeignKey(
        Exercise, on_delete=models.PROTECT, related_name="+", verbose_name=_("exercise")
    )
    prescription = models.JSONField(
        _("prescription"),
        default=dict,
        blank=True,
        validators=[validate_prescription],
        help_text=_(
            'For example {"sets": 3, "reps": {"min": 8, "max": 12}, "load": {"kg": 60}, '
            '"rest_seconds": 90, "rpe": 8}.'
        ),
    )
    superset = models.CharField(
        _("superset"),
        max_length=2,
        blank=True,
        help_text=_("Exercises of a day with the same letter are done back to back."),
    )

    tenant_branch_path = "day__version__plan__member__home_branch"

    class Meta:
        verbose_name = _("plan exercise")
        verbose_name_plural = _("plan exercises")
        ordering = ["day", "position", "pk"]

    def __str__(self):
        return f"{self.day}: {self.exercise_id}"

    def save(self, *args, **kwargs):
        # The schema is checked on every save, whichever path writes the row.
        validate_prescription(self.prescription)
        super().save(*args, **kwargs)


class PlanAssignment(TenantModel):
    """A plan a member follows for a date range, set by a trainer (or themselves)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="plan_assignments"
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plan_assignments",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    sessions_per_week = models.PositiveSmallIntegerField(
        _("sessions a week"), default=3, validators=[MinValueValidator(1), MaxValueValidator(14)]
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("plan assignment")
        verbose_name_plural = _("plan assignments")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="plan_assignment_dates_ordered",
            )
        ]
        indexes = [models.Index(fields=["member", "starts_on"])]

    def __str__(self):
        return f"{self.plan} → {self.member_id}"

    def covers(self, day) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class WorkoutSession(TenantModel):
    """One workout a member did: a day of a plan version, or a free workout."""

    client_id = models.UUIDField(default=uuid.uuid4, editable=False)
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="workout_sessions"
    )
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    plan_day = models.ForeignKey(
        PlanDay, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    title = models.CharField(_("title"), max_length=150, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("workout")
        verbose_name_plural = _("workouts")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "client_id"], name="workout_session_client_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(plan_day__isnull=True) | Q(plan_version__isnull=False),
                name="workout_day_has_its_version",
            ),
        ]
        indexes = [models.Index(fields=["member", "-started_at"])]

    def __str__(self):
        return self.title or f"{_('Workout')} {self.started_at:%Y-%m-%d}"


class SetLog(TenantModel):
    """One set as done. ``client_id`` is generated by the phone: the same set sent
    twice (a retry on bad signal, an offline session sent again) is recorded once."""

    client_id = models.UUIDField()
    session = models.ForeignKey(WorkoutSession, on_delete=models.CASCADE, related_name="sets")
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    plan_exercise = models.ForeignKey(
        PlanExercise, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    set_number = models.PositiveSmallIntegerField(_("set"), default=1)
    reps = models.PositiveIntegerField(_("reps"), null=True, blank=True)
    load_kg = models.DecimalField(
        _("load (kg)"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    rpe = models.DecimalField(
        _("RPE"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(1)), MaxValueValidator(Decimal(10))],
    )
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    distance_m = models.DecimalField(
        _("distance (m)"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    performed_at = models.DateTimeField(_("done at"), default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("set")
        verbose_name_plural = _("sets")
        ordering = ["session", "performed_at", "set_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "client_id"], name="set_log_client_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(rpe__isnull=True) | Q(rpe__gte=1, rpe__lte=10), name="set_log_rpe"
            ),
        ]
        indexes = [models.Index(fields=["member", "exercise", "performed_at"])]

    def __str__(self):
        return f"{self.exercise_id} set {self.set_number}"


class WorkoutComment(TenantModel):
    """A trainer's (or the member's) comment on a logged workout."""

    session = models.ForeignKey(WorkoutSession, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"), max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    tenant_branch_path = "session__member__home_branch"

    class Meta:
        verbose_name = _("workout comment")
        verbose_name_plural = _("workout comments")
        ordering = ["created_at"]

    def __str__(self):
        return self.body[:40]


class RecordKind(models.TextChoices):
    HEAVIEST_LOAD = "heaviest_load", _("Heaviest load")
    BEST_E1RM = "best_e1rm", _("Best estimated 1RM")
    MOST_REPS = "most_reps", _("Most reps at a load")
    LONGEST_DISTANCE = "longest_distance", _("Longest distance")


class PersonalRecord(TenantModel):
    """A member's best so far, per exercise and kind (and load, for most reps).
    Raised by a conditional update whose row count says whether the set beat it."""

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="personal_records"
    )
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("record"), max_length=20, choices=RecordKind.choices)
    # The load a "most reps" record was done at; 0 for the other kinds (not null, so
    # the unique constraint below applies to every row).
    at_load_kg = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(0))
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2)
    set_log = models.ForeignKey(SetLog, on_delete=models.CASCADE, related_name="+")
    achieved_at = models.DateTimeField(_("achieved"))

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("personal record")
        verbose_name_plural = _("personal records")
        ordering = ["-achieved_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "exercise", "kind", "at_load_kg"],
                name="personal_record_one_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def unit(self) -> str:
        return {
            RecordKind.HEAVIEST_LOAD: "kg",
            RecordKind.BEST_E1RM: "kg",
            RecordKind.MOST_REPS: _("reps"),
            RecordKind.LONGEST_DISTANCE: "m",
        }[self.kind]


class MetricKind(models.TextChoices):
    WEIGHT = "weight", _("Body weight")
    BODY_FAT = "body_fat", _("Body fat")
    WAIST = "waist", _("Waist")
    CHEST = "chest", _("Chest")
    HIPS = "hips", _("Hips")
    ARM = "arm", _("Upper arm")
    THIGH = "thigh", _("Thigh")
    RESTING_HR = "resting_hr", _("Resting heart rate")
    CUSTOM = "custom", _("Custom")


# The unit each kind is stored in, and the other units accepted on the way in.
METRIC_UNITS: dict[str, str] = {
    MetricKind.WEIGHT: "kg",
    MetricKind.BODY_FAT: "%",
    MetricKind.WAIST: "cm",
    MetricKind.CHEST: "cm",
    MetricKind.HIPS: "cm",
    MetricKind.ARM: "cm",
    MetricKind.THIGH: "cm",
    MetricKind.RESTING_HR: "bpm",
}
UNIT_CONVERSIONS: dict[tuple[str, str], Decimal] = {
    ("lb", "kg"): Decimal("0.45359237"),
    ("in", "cm"): Decimal("2.54"),
}


class MetricType(TenantModel):
    """A measurement the gym defines (grip strength, VO2max…), with its unit."""

    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=20)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom metric")
        verbose_name_plural = _("custom metrics")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="metric_type_unique")
        ]

    def __str__(self):
        return f"{self.name} ({self.unit})"


class BodyMetric(TenantModel):
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="body_metrics"
    )
    kind = models.CharField(_("measurement"), max_length=20, choices=MetricKind.choices)
    custom_type = models.ForeignKey(
        MetricType, on_delete=models.PROTECT, null=True, blank=True, related_name="values"
    )
    value = models.DecimalField(_("value"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, editable=False)
    measured_on = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("body metric")
        verbose_name_plural = _("body metrics")
        ordering = ["-measured_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="custom", custom_type__isnull=False)
                | (~Q(kind="custom") & Q(custom_type__isnull=True)),
                name="body_metric_custom_has_type",
            )
        ]
        indexes = [models.Index(fields=["member", "kind", "measured_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value} {self.unit}"


def progress_photo_path(instance, filename):
    # A random name: the path itself must not be guessable or say whose it is.
    suffix = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "jpg"
    return f"org-{instance.organisation_id}/training/photos/{uuid.uuid4().hex}.{suffix}"


class ProgressPhoto(TenantModel):
    """Private: served only through ``training:photo``, which checks who asks."""

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="progress_photos"
    )
    image = models.FileField(_("photo"), upload_to=progress_photo_path, max_length=255)
    taken_on = models.DateField(_("date"), default=timezone.localdate)
    note = models.CharField(_("note"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")
        ordering = ["-taken_on", "-pk"]

    def __str__(self):
        return f"{self.member_id} {self.taken_on}"


class NutritionTarget(TenantModel):
    """Daily calories and macros a trainer sets, from a date on (the latest applies)."""

    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="nutrition_targets"
    )
    trainer = models.ForeignKey(
        "accounts.TrainerProfile", on_delete=models.SET_NULL, null=True, blank=True
    )
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    calories = models.PositiveIntegerField(
        _("calories (kcal)"), validators=[MinValueValidator(500), MaxValueValidator(10000)]
    )
    protein_g = models.PositiveIntegerField(_("protein (g)"), default=0)
    carbs_g = models.PositiveIntegerField(_("carbohydrates (g)"), default=0)
    fat_g = models.PositiveIntegerField(_("fat (g)"), default=0)
    notes = models.TextField(_("trainer's notes"), blank=True)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("nutrition target")
        verbose_name_plural = _("nutrition targets")
        ordering = ["-starts_on"]

    def __str__(self):
        return f"{self.calories} kcal from {self.starts_on}"


class NutritionLog(TenantModel):
    member = models.ForeignKey(
        "accounts.Member", on_delete=models.CASCADE, related_name="nutrition_logs"
    )
    day = models.DateField(_("date"), default=timezone.localdate)
    calories = models.PositiveIntegerField(_("calories (kcal)"), default=0)
    protein_g = models.PositiveIntegerField(_("protein (g)"), default=0)
    carbs_g = models.PositiveIntegerField(_("carbohydrates (g)"), default=0)
    fat_g = models.PositiveIntegerField(_("fat (g)"), default=0)
    notes = models.CharField(_("notes"), max_length=300, blank=True)

    tenant_branch_path = MEMBER_BRANCH

    class Meta:
        verbose_name = _("nutrition log")
        verbose_name_plural = _("nutrition logs")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="nutrition_log_one_per_day")
        ]

    def __str__(self):
        return f"{self.day}: {self.calories} kcal"
