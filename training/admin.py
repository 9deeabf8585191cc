"""Back-office views of training data: owners and the managers of a member's branch
(``accounts.roles``: ``training.*``); never the front desk. Plans change through the
services, so an edit after a workout was logged makes a new version."""

from django import forms
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import (
    ServiceAdminForm,
    ServiceAdminMixin,
    TenantAdmin,
    TenantTabularInline,
)
from training import services
from training.models import (
    BodyMetric,
    Exercise,
    MetricType,
    NutritionLog,
    NutritionTarget,
    PersonalRecord,
    Plan,
    PlanAssignment,
    PlanExercise,
    ProgressPhoto,
    SetLog,
    WorkoutComment,
    WorkoutSession,
)
from training.prescription import describe


class ReadOnlyMixin:
    """Records written by the member's app and the services only: shown, never edited."""

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name != "id"]
        return list(dict.fromkeys([*names, *self.readonly_fields]))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Exercise)
class ExerciseAdmin(TenantAdmin):
    list_display = ["name", "category", "equipment", "shared"]
    list_filter = ["category", "equipment", "is_active"]
    search_fields = ["name", "description"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(boolean=True, description=_("shared library"))
    def shared(self, obj):
        return obj.is_shared

    def has_change_permission(self, request, obj=None):
        # The shared starter library is the same for every gym: read-only here.
        if obj is not None and obj.is_shared:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_shared:
            return False
        return super().has_delete_permission(request, obj)


class PlanAddForm(ServiceAdminForm):
    class Meta:
        model = Plan
        fields = ["name", "description", "member", "trainer", "is_template"]

    def perform(self, data):
        if self.instance.pk:
            return services.plan_update(
                plan=self.instance,
                name=data["name"],
                description=data["description"],
                actor=self.actor,
            )
        return services.plan_create(actor=self.actor, **data)


class AssignmentInline(TenantTabularInline):
    model = PlanAssignment
    fk_name = "plan"
    extra = 0
    fields = ["member", "trainer", "starts_on", "ends_on", "sessions_per_week"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(ServiceAdminMixin, TenantAdmin):
    form = PlanAddForm
    list_display = ["name", "member", "trainer", "is_template", "version"]
    list_filter = ["is_template"]
    list_select_related = ["member", "trainer", "current_version"]
    search_fields = ["name", "member__last_name", "member__first_name"]
    raw_id_fields = ["member"]
    inlines = [AssignmentInline]

    @admin.display(description=_("version"))
    def version(self, obj):
        return obj.current_version.number if obj.current_version_id else None

    def get_readonly_fields(self, request, obj=None):
        return ["member", "trainer", "is_template"] if obj else []

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk

    def has_delete_permission(self, request, obj=None):
        return False


class PlanExerciseForm(ServiceAdminForm):
    """Add or change a plan's exercise through the plan's services (a new version when
    the member already logged the current one); a bad prescription is a field error."""

    class Meta:
        model = PlanExercise
        fields = ["day", "exercise", "prescription", "superset"]

    def perform(self, data):
        plan = data["day"].version.plan
        if self.instance.pk:
            return services.plan_exercise_update(
                plan=plan,
                item=self.instance,
                prescription=data["prescription"],
                superset=data["superset"],
                actor=self.actor,
            )
        return services.plan_exercise_add(
            plan=plan,
            day=data["day"],
            exercise=data["exercise"],
            prescription=data["prescription"],
            superset=data["superset"],
            actor=self.actor,
        )

    def _post_clean(self):
        # The service saved (or refused) already; the model's own checks ran there.
        if getattr(self, "performed", None) is None:
            super()._post_clean()


@admin.register(PlanExercise)
class PlanExerciseAdmin(ServiceAdminMixin, TenantAdmin):
    form = PlanExerciseForm
    list_display = ["exercise", "day", "plan", "summary"]
    list_select_related = ["exercise", "day__version__plan"]
    raw_id_fields = ["day", "exercise"]
    search_fields = ["exercise__name", "day__version__plan__name"]

    @admin.display(description=_("plan"))
    def plan(self, obj):
        return f"{obj.day.version.plan} v{obj.day.version.number}"

    @admin.display(description=_("prescription"))
    def summary(self, obj):
        return describe(obj.prescription)

    def get_readonly_fields(self, request, obj=None):
        return ["day", "exercise"] if obj else []

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanAssignment)
class PlanAssignmentAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ["plan", "member", "trainer", "starts_on", "ends_on", "sessions_per_week"]
    list_select_related = ["plan", "member", "trainer"]
    search_fields = ["member__last_name", "plan__name"]


class SetInline(ReadOnlyMixin, TenantTabularInline):
    model = SetLog
    fk_name = "session"
    extra = 0
    fields = ["exercise", "set_number", "reps", "load_kg", "rpe", "distance_m", "performed_at"]
    readonly_fields = fields


class CommentInline(ReadOnlyMixin, TenantTabularInline):
    model = WorkoutComment
    extra = 0
    fields = ["author", "body", "created_at"]
    readonly_fields = fields


@admin.register(WorkoutSession)
class WorkoutSessionAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ["__str__", "member", "started_at", "finished_at"]
    list_select_related = ["member"]
    search_fields = ["member__last_name", "member__first_name", "title"]
    date_hierarchy = "started_at"
    inlines = [SetInline, CommentInline]


@admin.register(PersonalRecord)
class PersonalRecordAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ["member", "exercise", "kind", "value", "at_load_kg", "achieved_at"]
    list_filter = ["kind"]
    list_select_related = ["member", "exercise"]
    search_fields = ["member__last_name", "exercise__name"]


@admin.register(MetricType)
class MetricTypeAdmin(TenantAdmin):
    list_display = ["name", "unit", "is_active"]


class MetricForm(ServiceAdminForm):
    unit_typed = forms.ChoiceField(
        label=_("Unit typed"),
        required=False,
        choices=[("", _("Standard")), ("lb", "lb"), ("in", "in")],
    )

    class Meta:
        model = BodyMetric
        fields = ["member", "kind", "custom_type", "value", "measured_on", "note"]

    def perform(self, data):
        return services.metric_record(
            member=data["member"],
            kind=data["kind"],
            custom_type=data["custom_type"],
            value=data["value"],
            unit=data.get("unit_typed", ""),
            measured_on=data["measured_on"],
            note=data["note"],
            actor=self.actor,
        )

    def _post_clean(self):
        if getattr(self, "performed", None) is None:
            super()._post_clean()


@admin.register(BodyMetric)
class BodyMetricAdmin(ServiceAdminMixin, TenantAdmin):
    form = MetricForm
    list_display = ["member", "kind", "value", "unit", "measured_on"]
    list_filter = ["kind"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    search_fields = ["member__last_name", "member__first_name"]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.pk = form.performed.pk


@admin.register(ProgressPhoto)
class ProgressPhotoAdmin(ReadOnlyMixin, TenantAdmin):
    """Shown through the permission-checked view, never a direct storage address."""

    list_display = ["member", "taken_on", "view"]
    list_select_related = ["member"]
    fields = ["member", "taken_on", "note", "view"]
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def view(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("training:photo", args=[obj.pk]), _("open")
        )


@admin.register(NutritionTarget)
class NutritionTargetAdmin(TenantAdmin):
    list_display = ["member", "starts_on", "calories", "protein_g", "carbs_g", "fat_g"]
    list_select_related = ["member"]
    raw_id_fields = ["member", "trainer"]


@admin.register(NutritionLog)
class NutritionLogAdmin(ReadOnlyMixin, TenantAdmin):
    list_display = ["member", "day", "calories", "protein_g", "carbs_g", "fat_g"]
    list_select_related = ["member"]
