from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RangeDateTimeFilter

from accounts.admin_base import (
    ServiceAdminForm,
    ServiceAdminMixin,
    TenantAdmin,
    TenantTabularInline,
)
from accounts.models import TrainerProfile
from accounts.services import audit_record
from classes import hooks, services
from classes.models import (
    ClassCategory,
    ClassSchedule,
    ClassSession,
    ClassType,
    Room,
    ScheduleException,
)
from gymsite.errors import ServiceError


@admin.register(ClassCategory)
class ClassCategoryAdmin(TenantAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ClassType)
class ClassTypeAdmin(TenantAdmin):
    list_display = [
        "name",
        "category",
        "level",
        "duration_minutes",
        "default_capacity",
        "is_active",
    ]
    list_filter = ["category", "level", "is_active"]
    list_select_related = ["category"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["required_certifications"]

    def has_delete_permission(self, request, obj=None):
        return False  # sessions refer to it: retire it instead


@admin.register(Room)
class RoomAdmin(TenantAdmin):
    list_display = ["name", "branch", "capacity", "is_active"]
    list_filter = ["branch", "is_active"]
    list_select_related = ["branch"]
    search_fields = ["name"]


class ScheduleExceptionInline(TenantTabularInline):
    model = ScheduleException
    fields = ["date", "reason"]


OVERRIDE_CLASH_LABEL = _("Schedule the trainer even though they are busy then")


class ScheduleForm(forms.ModelForm):
    weekdays = SimpleArrayField(
        forms.IntegerField(min_value=0, max_value=6),
        help_text=_("Comma-separated: 0 = Monday … 6 = Sunday."),
    )
    allow_trainer_clash = forms.BooleanField(
        label=OVERRIDE_CLASH_LABEL,
        required=False,
        help_text=_("Recorded in the audit log."),
    )

    class Meta:
        model = ClassSchedule
        fields = [
            "branch",
            "class_type",
            "room",
            "trainer",
            "weekdays",
            "start_time",
            "duration_minutes",
            "capacity",
            "starts_on",
            "ends_on",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        _check_room(self, data)
        # A new series (its pattern is read-only once saved) takes no trainer who is
        # teaching or training elsewhere then, unless staff say so.
        if self.instance.pk is None and not self.errors and data.get("trainer"):
            draft = ClassSchedule(
                **{name: data.get(name) for name in self.Meta.fields if name in data}
            )
            if not draft.duration_minutes and draft.class_type_id:
                draft.duration_minutes = data["class_type"].duration_minutes
            try:
                services.check_schedule_trainer_free(draft)
            except ServiceError as exc:
                if not data.get("allow_trainer_clash"):
                    self.add_error("trainer", exc.message)
                else:
                    self.trainer_clash = exc.message
        return data


def _check_room(form, data) -> None:
    """The room must be in the session's branch and hold the capacity."""
    room, capacity, branch = data.get("room"), data.get("capacity"), data.get("branch")
    if room is None:
        return
    if branch is not None and room.branch_id != branch.pk:
        form.add_error("room", _("That room is in another branch."))
    elif capacity and capacity > room.capacity:
        form.add_error("capacity", _("The room holds at most %(n)s people.") % {"n": room.capacity})


class SeriesEditForm(forms.Form):
    from_date = forms.DateField(
        label=_("From (local date)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    weekdays = SimpleArrayField(forms.IntegerField(min_value=0, max_value=6), required=False)
    start_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(min_value=5, required=False)
    capacity = forms.IntegerField(min_value=1, required=False)
    trainer = forms.ModelChoiceField(queryset=TrainerProfile.objects.all(), required=False)
    room = forms.ModelChoiceField(queryset=Room.objects.all(), required=False)


@admin.register(ClassSchedule)
class ClassScheduleAdmin(TenantAdmin):
    form = ScheduleForm
    list_display = [
        "class_type",
        "branch",
        "days",
        "start_time",
        "trainer",
        "starts_on",
        "ends_on",
        "is_active",
    ]
    list_filter = ["branch", "class_type", "is_active"]
    list_select_related = ["class_type", "branch", "trainer"]
    autocomplete_fields = ["trainer"]
    readonly_fields = ["materialised_until", "edit_series_link"]
    inlines = [ScheduleExceptionInline]

    @admin.display(description=_("Change from a date"))
    def edit_series_link(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:classes_classschedule_edit_series", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Change the series from a date on…"))

    actions = ["materialise"]

    @admin.display(description=_("Days"))
    def days(self, obj):
        names = [
            str(_("Mon")),
            str(_("Tue")),
            str(_("Wed")),
            str(_("Thu")),
            str(_("Fri")),
            str(_("Sat")),
            str(_("Sun")),
        ]
        return ", ".join(names[d] for d in sorted(obj.weekdays))

    # What the series' sessions are made of changes through "Change the series from a
    # date on" (which updates the sessions already created and tells their members);
    # here it would only shape sessions not created yet.
    PATTERN_FIELDS = ("room", "trainer", "weekdays", "start_time", "duration_minutes", "capacity")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["branch", "class_type", *self.PATTERN_FIELDS, "starts_on"]
        return fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        clash = getattr(form, "trainer_clash", None)
        if clash:
            audit_record(
                actor=request.user,
                action="schedule.trainer_clash_override",
                target=obj,
                data={"reason": str(clash)},
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            withdrawn = services.schedule_withdraw_skipped(
                schedule=form.instance, actor=request.user
            )
            if withdrawn:
                self.message_user(
                    request,
                    _(
                        "%(n)s sessions it no longer runs were cancelled; their members "
                        "were told and their credits returned."
                    )
                    % {"n": withdrawn},
                    messages.WARNING,
                )
        created = services.schedule_materialise(schedule=form.instance)
        if created:
            self.message_user(request, _("%(n)s sessions created.") % {"n": created})

    @admin.action(description=_("Create sessions ahead now"))
    def materialise(self, request, queryset):
        total = sum(
            services.schedule_materialise(schedule=s) for s in queryset.select_related("branch")
        )
        self.message_user(request, _("%(n)s sessions created.") % {"n": total}, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<int:pk>/edit-series/",
                self.admin_site.admin_view(self.edit_series),
                name="classes_classschedule_edit_series",
            ),
            *super().get_urls(),
        ]

    def edit_series(self, request, pk):
        """Change the series from a date on (earlier sessions are left as they were)."""
        schedule = get_object_or_404(ClassSchedule.objects.select_related("branch"), pk=pk)
        if not self.has_change_permission(request, schedule):
            return redirect("admin:index")
        form = SeriesEditForm(request.POST or None, initial={"from_date": timezone.localdate()})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            changes = {
                k: v for k, v in data.items() if k != "from_date" and v not in (None, "", [])
            }
            try:
                new = services.schedule_update_from(
                    schedule=schedule, from_date=data["from_date"], actor=request.user, **changes
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, _("The series was changed."), messages.SUCCESS)
                return redirect(reverse("admin:classes_classschedule_change", args=[new.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change the series from a date"),
            "schedule": schedule,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "classes/admin/edit_series.html", context)


class UpcomingFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("upcoming", _("Upcoming")),
            ("past", _("Past")),
            ("full", _("Full, with a waitlist")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=now)
        if self.value() == "full":
            return queryset.filter(booked_count__gte=F("capacity"), waitlist_count__gt=0)
        return queryset


class SessionForm(ServiceAdminForm):
    """A one-off session (add), or one session's trainer, room and capacity (change,
    through ``services.session_update``: a capacity below the booked count, a room
    too small or a substitute busy elsewhere is refused beside the field)."""

    allow_trainer_clash = forms.BooleanField(
        label=OVERRIDE_CLASH_LABEL, required=False, help_text=_("Recorded in the audit log.")
    )

    class Meta:
        model = ClassSession
        fields = [
            "branch",
            "class_type",
            "room",
            "trainer",
            "starts_at",
            "ends_at",
            "occurrence_date",
            "capacity",
        ]

    def clean(self):
        if self.instance.pk is None:
            data = forms.ModelForm.clean(self)
            _check_room(self, data)
            starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
            if starts_at and ends_at and ends_at <= starts_at:
                self.add_error("ends_at", _("A class must end after it starts."))
            return data
        return super().clean()

    def perform(self, data):
        changes = {
            name: data[name]
            for name in ("trainer", "room", "capacity")
            if name in self.changed_data
        }
        return services.session_update(
            session=self.instance.pk,
            actor=self.actor,
            allow_trainer_clash=bool(data.get("allow_trainer_clash")),
            **changes,
        )


class SessionMoveForm(forms.Form):
    """A new time for one session, as the branch's wall clock shows it."""

    date = forms.DateField(label=_("Date (local)"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Starts at (local)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), min_value=5)


@admin.register(ClassSession)
class ClassSessionAdmin(ServiceAdminMixin, TenantAdmin):
    form = SessionForm
    # A date range, not date_hierarchy: its year links are a DISTINCT over every row.
    list_display = [
        "local_start",
        "class_type",
        "branch",
        "trainer",
        "room",
        "places",
        "waitlist_count",
        "status",
    ]
    list_filter = [
        UpcomingFilter,
        ("starts_at", RangeDateTimeFilter),
        "status",
        "branch",
        "class_type",
        "trainer",
    ]
    list_filter_submit = True
    list_select_related = ["class_type", "branch", "trainer", "room"]
    autocomplete_fields = ["trainer"]
    search_fields = ["class_type__name", "trainer__display_name"]
    search_help_text = _("A class type's or a trainer's name.")
    actions = ["cancel_sessions"]
    ordering = ["starts_at"]

    def get_search_results(self, request, queryset, search_term):
        # The few class types and trainers first, then the sessions by their ids: an
        # ILIKE OR-ed across two joins reads every session of the gym.
        term = search_term.strip()
        if not term:
            return queryset, False
        types = ClassType.objects.filter(name__icontains=term).values_list("pk", flat=True)
        trainers = TrainerProfile.objects.filter(display_name__icontains=term).values_list(
            "pk", flat=True
        )
        return queryset.filter(
            Q(class_type_id__in=list(types[:500])) | Q(trainer_id__in=list(trainers[:500]))
        ), False

    def get_inlines(self, request, obj):
        # The apps on the timetable add their rows (bookings: the roster and waitlist).
        return [*super().get_inlines(request, obj), *hooks.session_admin_inlines]

    @admin.display(description=_("Starts (local)"), ordering="starts_at")
    def local_start(self, obj):
        return dateformat.format(
            obj.starts_at.astimezone(ZoneInfo(obj.branch.timezone)), "D j M Y H:i"
        )

    @admin.display(description=_("Booked"))
    def places(self, obj):
        return f"{obj.booked_count}/{obj.capacity}"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Only trainer, room and capacity change here, through the service; the time
        # changes on its own page ("Move to another time…"), which tells the members.
        return [
            "branch",
            "class_type",
            "starts_at",
            "ends_at",
            "move_link",
            "occurrence_date",
            "status",
        ]

    @admin.display(description=_("Another time"))
    def move_link(self, obj):
        if obj.pk is None or obj.status != ClassSession.Status.SCHEDULED:
            return "-"
        url = reverse("admin:classes_classsession_move", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Move to another time…"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/move/",
                self.admin_site.admin_view(self.move_session),
                name="classes_classsession_move",
            ),
            *super().get_urls(),
        ]

    def move_session(self, request, pk):
        """Move one session (its series is unchanged); everyone booked is told."""
        session = get_object_or_404(
            ClassSession.objects.select_related("branch", "class_type", "trainer", "room"), pk=pk
        )
        if not self.has_change_permission(request, session):
            return redirect("admin:index")
        local_start = session.starts_at.astimezone(ZoneInfo(session.branch.timezone))
        form = SessionMoveForm(
            request.POST or None,
            initial={
                "date": local_start.date(),
                "start_time": local_start.time().replace(second=0, microsecond=0),
                "duration_minutes": int(
                    (session.ends_at - session.starts_at).total_seconds() // 60
                ),
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.session_move(
                    session=session.pk,
                    local_date=data["date"],
                    local_time=data["start_time"],
                    duration_minutes=data["duration_minutes"],
                    actor=request.user,
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    _("The session was moved; everyone booked has been told."),
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:classes_classsession_change", args=[session.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Move a session to another time"),
            "session": session,
            "local_start": local_start,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "classes/admin/move_session.html", context)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        # a change was saved by the form's service call (SessionForm.perform)

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: bookings carry history

    @admin.action(
        description=_("Cancel sessions (bookings cancelled, credits returned, members emailed)")
    )
    def cancel_sessions(self, request, queryset):
        done = 0
        for session_id in queryset.filter(status=ClassSession.Status.SCHEDULED).values_list(
            "pk", flat=True
        ):
            services.session_cancel(
                session=session_id, actor=request.user, reason=str(_("Cancelled by staff"))
            )
            done += 1
        self.message_user(request, _("%(n)s sessions cancelled.") % {"n": done}, messages.SUCCESS)
